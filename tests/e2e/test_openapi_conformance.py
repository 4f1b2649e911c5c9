"""schemathesis drives the running API from docs/openapi.json: no 5xx, and every answer matches
the document (status codes, content types, bodies).

Generated Idempotency-Keys and nextTokens are replaced by well-formed ones, and a valid slot by
one of this test's own (see below). One check
is left out: `unsupported_method` expects 405 for a method the document does not list,
but those requests never reach the function: API Gateway answers them itself (404 from an HTTP API,
403 from a REST API), on AWS as on the local engine."""

from __future__ import annotations

import re

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import unsupported_method

from appointments.http.checks import API_KEY_HEADER
from appointments.http.idempotency import IDEMPOTENCY_KEY_PATTERN
from appointments.http.schemas import MAX_SCHEDULE_ID, PAGE_TOKEN_PATTERN, encode_page_token
from appointments.services import new_appointment_id
from bootstrap.config import ROOT
from bootstrap.dev.kit import Stack
from tests.support.random_refs import random_idempotency_key, random_schedule_id

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.json")


def with_own_slot(body: object) -> None:
    """A valid generated slot is often the smallest, slot 1, which only the seed test books (it
    frees it first): replaced by a slot of this test's own, of the same type (7.0 is the slot 7)."""
    if not isinstance(body, dict):
        return
    slot = body.get("scheduleId")
    if isinstance(slot, bool) or not isinstance(slot, int | float):
        return
    if float(slot).is_integer() and 0 < slot <= MAX_SCHEDULE_ID:
        body["scheduleId"] = type(slot)(random_schedule_id())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_running_api_keeps_to_its_document(case: schemathesis.Case, stack: Stack) -> None:
    # Generated examples reuse short keys ("0") with different bodies, which the API rightly
    # answers 422; a fresh valid key per example keeps each one a first request.
    key = (case.headers or {}).get("idempotency-key")
    if key is not None and re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        case.headers["idempotency-key"] = random_idempotency_key("contract")
    # Likewise a generated nextToken fits the documented pattern but is no token the API gave,
    # which it rightly answers 400: a well-formed one, for the path's insured, keeps it a page.
    token = (case.query or {}).get("nextToken")
    insured = (case.path_parameters or {}).get("insuredId")
    if isinstance(token, str) and re.fullmatch(PAGE_TOKEN_PATTERN, token) and isinstance(insured, str):
        case.query["nextToken"] = encode_page_token(insured, new_appointment_id())
    with_own_slot(case.body)
    # The document requires x-api-key: a generated case that has it gets the stack's key, and one
    # left without it (a negative case) is sent without it, to be refused as the document says.
    if case.headers and API_KEY_HEADER in case.headers:
        case.headers[API_KEY_HEADER] = stack.api_key
    case.call_and_validate(base_url=stack.api_url, excluded_checks=[unsupported_method])
