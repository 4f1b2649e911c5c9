"""The Idempotency-Key's records: what the request made once per key is handed, and the names and
hashes the records are stored under, which must not change while a record lives (a day)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appointments.adapters.ssm import ApiKey
from appointments.http.front_doors import AppointmentsApi
from appointments.http.idempotency import KeyedRequest, OncePerKey
from appointments.http.routes import HttpBackend
from appointments.http.schemas import CreateAppointmentBody
from tests.support.events import FakeContext, http_event
from tests.support.fakes import (
    InMemoryAppointmentRepository,
    InMemoryIdempotencyStore,
    InMemoryRequestPublisher,
)

BODY = {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}
API_KEY = "test-key-0123456789"


def test_the_request_made_once_gets_the_body_as_the_route_validated_it_and_a_retry_gets_its_answer() -> None:
    body = CreateAppointmentBody.model_validate(BODY)
    handed: list[KeyedRequest] = []

    def request_once(data: KeyedRequest) -> dict[str, Any]:
        handed.append(data)
        return {"appointmentId": "01KB0000000000000000000000"}

    once = OncePerKey(request_once, InMemoryIdempotencyStore())
    keyed = KeyedRequest(client="portal", key="k-1", request=body)

    context: Any = FakeContext()
    first = once(data=keyed, context=context)
    again = once(data=KeyedRequest(client="portal", key="k-1", request=body), context=context)

    assert first == again == {"appointmentId": "01KB0000000000000000000000"}
    [made] = handed  # the retry was answered from the store
    assert made.request is body  # neither dumped to a dict nor validated again


def test_a_keys_record_has_the_name_and_hashes_it_had_before_the_code_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A record written by the function before a deploy is found by the function after it: the
    # name, and the hashes of [client, key] and of the body, are those earlier versions wrote.
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    store = InMemoryIdempotencyStore()
    api = AppointmentsApi(
        HttpBackend(
            InMemoryAppointmentRepository(), InMemoryRequestPublisher(), ApiKey(lambda force: API_KEY), store
        )
    )
    headers = {"x-api-key": API_KEY, "content-type": "application/json", "Idempotency-Key": "k-1"}

    event = http_event("POST", "/appointments", json.dumps(BODY), headers)
    response = api.resolve(event, FakeContext())  # type: ignore[arg-type]

    assert response["statusCode"] == 202
    [(name, record)] = store.records.items()
    assert name == (
        "test-func.appointments.api.create_app.<locals>.request_once#a6aed5fd90643b2f5d74425bc15fc5c2"
    )
    assert record.payload_hash == "8e2fe57264750b2e365b930919209e04"
