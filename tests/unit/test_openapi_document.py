"""docs/openapi.json is generated from the routes and pydantic models the function serves."""

from __future__ import annotations

import json

from appointments.api import openapi_document
from bootstrap.config import ROOT


def test_the_committed_document_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()

    assert committed == openapi_document(), "docs/openapi.json is stale: run make openapi"


def test_the_document_names_every_answer_the_api_gives() -> None:
    document = json.loads(openapi_document())
    post = document["paths"]["/appointments"]["post"]
    get = document["paths"]["/appointments/{insuredId}"]["get"]

    assert sorted(post["responses"]) == ["202", "400", "401", "403", "409", "413", "415", "422", "500"]
    assert sorted(get["responses"]) == ["200", "400", "401", "403", "413", "415", "500"]
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert document["components"]["schemas"]["CreateAppointmentBody"]["additionalProperties"] is False
