"""API key and Idempotency-Key, through the public API on the real engine."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pymysql

from tests.support.api_client import AppointmentsApi, Reply
from tests.support.deadlines import Deadlines
from tests.support.polling import wait_for
from tests.support.random_refs import random_idempotency_key, random_insured_id, random_schedule_id
from tests.support.tally import mysql_rows


def body() -> dict[str, object]:
    return {
        "insuredId": random_insured_id("E2E"),
        "scheduleId": random_schedule_id(),
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
    request, key = body(), random_idempotency_key("retry")

    replies = [api.create(request, idempotency_key=key) for _ in range(3)]
    reused = api.create({**request, "scheduleId": int(request["scheduleId"]) + 1}, idempotency_key=key)

    assert {reply.status for reply in replies} == {202}
    assert len({reply.body["appointmentId"] for reply in replies}) == 1
    assert reused.status == 422
    assert len(api.list(str(request["insuredId"])).body["items"]) == 1


def test_two_posts_with_one_idempotency_key_at_the_same_moment_are_one_appointment(
    api: AppointmentsApi, mysql_admin: pymysql.connections.Connection, deadlines: Deadlines
) -> None:
    request, key = body(), random_idempotency_key("race")
    insured = str(request["insuredId"])
    together = threading.Barrier(2)

    def post(_: int) -> Reply:
        together.wait(timeout=30)  # two threads of this process, not the stack
        return api.create(request, idempotency_key=key)

    with ThreadPoolExecutor(max_workers=2) as pool:
        replies = sorted(pool.map(post, range(2)), key=lambda reply: reply.status)

    # The second either finds the first done (the same appointment) or still running (409).
    assert [reply.status for reply in replies] in ([202, 202], [202, 409]), replies
    accepted = [reply for reply in replies if reply.status == 202]
    assert len({reply.body["appointmentId"] for reply in accepted}) == 1, replies
    for reply in replies[len(accepted) :]:
        assert reply.body["message"] == "a request with this Idempotency-Key is in progress"

    def settled() -> list[dict[str, object]] | None:
        items = api.list(insured).body["items"]
        return items if items and all(item["status"] != "pending" for item in items) else None

    items = wait_for(settled, timeout=deadlines.flow, describe="the appointment settled")
    rows = mysql_rows(mysql_admin, insured)
    print(
        f"two POSTs, one key, at once: {[r.status for r in replies]}; listed {len(items)}, MySQL rows {rows}"
    )
    assert [(item["appointmentId"], item["status"]) for item in items] == [
        (accepted[0].body["appointmentId"], "completed")
    ]
    assert sum(rows.values()) == 1
