"""docs/openapi.json is generated from the routes and pydantic models the function serves."""

from __future__ import annotations

import json

from bootstrap.config import ROOT
from bootstrap.contracts.openapi import openapi_document


def test_the_committed_document_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()

    assert committed == openapi_document(), "docs/openapi.json is stale: run make openapi"


def test_the_document_names_every_answer_the_api_gives() -> None:
    document = json.loads(openapi_document())
    post = document["paths"]["/appointments"]["post"]
    get = document["paths"]["/appointments/{insuredId}"]["get"]

    assert sorted(post["responses"]) == ["202", "400", "401", "403", "409", "413", "415", "422", "500", "503"]
    assert sorted(get["responses"]) == ["200", "400", "401", "403", "413", "415", "500", "503"]
    assert document["components"]["securitySchemes"]["apiKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
    }
    assert document["components"]["schemas"]["CreateAppointmentBody"]["additionalProperties"] is False


def test_the_list_is_documented_a_page_at_a_time() -> None:
    document = json.loads(openapi_document())
    get = document["paths"]["/appointments/{insuredId}"]["get"]
    query = {p["name"]: p["schema"] for p in get["parameters"] if p["in"] == "query"}

    assert (query["limit"]["minimum"], query["limit"]["maximum"], query["limit"]["default"]) == (1, 100, 50)
    assert "nextToken" in query
    assert "nextToken" in document["components"]["schemas"]["AppointmentListView"]["properties"]
