"""Validating a message or an event against docs/asyncapi.json, the document of the contracts
between the functions: the unit tests check writers' bodies with it, the e2e tests what the topic
and the bus really carry."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft7Validator

from bootstrap.config import ROOT

ASYNCAPI_FILE = ROOT / "docs" / "asyncapi.json"


def committed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ASYNCAPI_FILE.read_text())
    return document


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft7Validator:
    # The payload's $refs point into the document's components: validate with them at hand.
    return Draft7Validator(
        {"allOf": [schema], "components": document["components"]},
        format_checker=Draft7Validator.FORMAT_CHECKER,
    )


def contract_errors(
    document: dict[str, Any], message: str, body: Any, headers: dict[str, Any] | None = None
) -> list[str]:
    """Every way `body` (and, when given, `headers`) breaks the document's message `message`."""
    described = document["components"]["messages"][message]
    found = [
        f"payload {list(e.absolute_path)}: {e.message}"
        for e in _validator(document, described["payload"]).iter_errors(body)
    ]
    if headers is not None:
        found += [
            f"headers {list(e.absolute_path)}: {e.message}"
            for e in _validator(document, described["headers"]).iter_errors(headers)
        ]
    return found
