"""The OpenAPI document of the HTTP API, generated from the same routes and pydantic models the
function serves (appointments/http/). docs/openapi.json is this output, checked by a unit test;
`make openapi` rewrites it."""

from __future__ import annotations

import json

from appointments.http.routes import DESCRIPTION, TITLE, VERSION, create_app, security_schemes


def openapi_document() -> str:
    app = create_app(backend=None)
    document = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes=security_schemes(),
            security=[{"apiKey": []}],
        )
    )
    # powertools documents a 422 for its own validation errors on every route; here those are
    # answered 400, and 422 means only an Idempotency-Key reused with another body.
    error_view = {"$ref": "#/components/schemas/ErrorView"}
    for path in document["paths"].values():
        for method, operation in path.items():
            operation["responses"].pop("422", None)
            if method == "post":
                operation["responses"]["422"] = {
                    "description": "Idempotency-Key reused with another body",
                    "content": {"application/json": {"schema": error_view}},
                }
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        document["components"]["schemas"].pop(unused, None)
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
