"""API key and Idempotency-Key, through the public API on the real engine."""

from __future__ import annotations

import random
import uuid

from tests.e2e.api_client import AppointmentsApi


def body() -> dict[str, object]:
    return {
        "insuredId": "E2E" + uuid.uuid4().hex[:12].upper(),
        "scheduleId": random.randrange(10**12, 10**13),
        "countryISO": "CL",
    }


def test_without_a_key_401_with_a_wrong_key_403_and_nothing_is_stored(api: AppointmentsApi) -> None:
    request = body()

    anonymous = api.with_key(None).create(request)
    stranger = api.with_key("not-the-key").create(request)

    assert (anonymous.status, stranger.status) == (401, 403)
    assert "x-api-key" in anonymous.body["message"]
    assert api.list(str(request["insuredId"])).body == {"items": []}


def test_a_retried_request_with_its_idempotency_key_is_one_appointment(api: AppointmentsApi) -> None:
    request, key = body(), "retry-" + uuid.uuid4().hex

    replies = [api.create(request, idempotency_key=key) for _ in range(3)]
    reused = api.create({**request, "scheduleId": 1}, idempotency_key=key)

    assert {reply.status for reply in replies} == {202}
    assert len({reply.body["appointmentId"] for reply in replies}) == 1
    assert reused.status == 422
    assert len(api.list(str(request["insuredId"])).body["items"]) == 1
