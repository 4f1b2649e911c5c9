"""schemathesis drives the running API from docs/openapi.json: no 5xx, and every answer matches
the document (status codes, content types, bodies)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from bootstrap.config import ROOT
from bootstrap.kit import Stack

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_running_api_keeps_to_its_document(case: schemathesis.Case, stack: Stack) -> None:
    case.call_and_validate(base_url=stack.api_url, headers={"x-api-key": stack.api_key})
