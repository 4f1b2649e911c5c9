"""The whole flow, only through the public HTTP API, then checked where it lands (MySQL)."""

from __future__ import annotations

import base64
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pymysql
import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from tests.support.api_client import AppointmentsApi, Reply
from tests.support.counts import schemas_holding
from tests.support.deadlines import Deadlines
from tests.support.polling import wait_completed, wait_for, wait_settled
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.stages import UNDER_LOAD
from tests.support.tally import (
    STORED_BEFORE,
    mysql_rows,
    now_ms,
    outputs_for,
    slot_rows,
    table_of,
    wait_all_told,
)


@pytest.fixture
def outputs(api: AppointmentsApi, kit_config: KitConfig) -> dict[str, str]:
    """The outputs of the stage this test's API belongs to: its functions' logs are read."""
    return outputs_for(kit_config, api.base_url)


def free_slot(admin: pymysql.connections.Connection, country: str, schedule_id: int) -> None:
    """The seed's requests always ask for slot 1: release it from earlier runs."""
    with admin.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table_of(country)} WHERE schedule_id = %s", (schedule_id,))  # noqa: S608


# Slot 1 is the seed's, and no other test asks for it; both front doors share the schemas, so their
# seed requests run one after another, on one worker (the group).
@pytest.mark.xdist_group("seed-slot-1")
@pytest.mark.parametrize(
    "seed_request",
    [
        {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"},
        {"insuredId": "CL001", "scheduleId": 1, "countryISO": "CL"},
    ],
    ids=["PE", "CL"],
)
def test_the_seed_request_reaches_completed_and_lands_in_its_country_schema_only(
    api: AppointmentsApi,
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
    seed_request: dict[str, object],
) -> None:
    free_slot(mysql_admin, str(seed_request["countryISO"]), 1)
    accepted = api.create(seed_request)
    assert accepted.status == 202, accepted
    assert accepted.body["status"] == "pending"
    appointment_id = accepted.body["appointmentId"]

    wait_completed(api, str(seed_request["insuredId"]), appointment_id, deadlines.flow)

    assert schemas_holding(mysql_admin, appointment_id) == [names.schema(str(seed_request["countryISO"]))]


def test_a_bad_request_is_refused_with_400_and_never_stored(api: AppointmentsApi) -> None:
    insured = random_insured_id("E2E")

    reply = api.create({"insuredId": insured, "scheduleId": 0, "countryISO": "AR"})
    not_json = api.create_raw(b"{not json")

    assert reply.status == 400
    assert sorted(error["field"] for error in reply.body["errors"]) == ["countryISO", "scheduleId"]
    assert not_json.status == 400
    assert api.list(insured).body == {"items": []}


def test_the_list_shows_an_insureds_appointments_newest_first_with_their_status(
    api: AppointmentsApi, deadlines: Deadlines
) -> None:
    insured, base = random_insured_id("E2E"), random_schedule_id()
    ids = [
        api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": country}).body[
            "appointmentId"
        ]
        for n, country in [(1, "PE"), (2, "CL"), (3, "PE")]
    ]
    for appointment_id in ids:
        wait_completed(api, insured, appointment_id, deadlines.flow)

    listed = api.list(insured)

    assert listed.status == 200
    assert [item["appointmentId"] for item in listed.body["items"]] == ids[::-1]
    assert [item["scheduleId"] - base for item in listed.body["items"]] == [3, 2, 1]
    assert {item["status"] for item in listed.body["items"]} == {"completed"}
    assert api.list(random_insured_id("E2E")).body == {"items": []}


def test_a_long_list_is_walked_page_by_page_each_appointment_once_newest_first(api: AppointmentsApi) -> None:
    insured, base = random_insured_id("E2E"), random_schedule_id()
    replies = [
        api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": "CL"}) for n in range(7)
    ]
    assert [reply.status for reply in replies] == [202] * 7

    pages = api.pages(insured, limit=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    walked = [item["appointmentId"] for page in pages for item in page]
    assert walked == sorted((reply.body["appointmentId"] for reply in replies), reverse=True)
    [[*whole]] = api.pages(insured, limit=100)  # one page holds them all: no token
    assert [item["appointmentId"] for item in whole] == walked


def test_a_bad_page_size_or_token_gets_400_naming_it(api: AppointmentsApi) -> None:
    insured = random_insured_id("E2E")

    too_many = api.list(insured, limit=101)
    forged_token = base64.urlsafe_b64encode(b'{"insuredId":"someone"}').decode()
    forged = api.list(insured, next_token=forged_token)

    assert (too_many.status, [e["field"] for e in too_many.body["errors"]]) == (400, ["limit"])
    assert (forged.status, [e["field"] for e in forged.body["errors"]]) == (400, ["nextToken"])


@pytest.mark.xdist_group(UNDER_LOAD)  # a burst: never beside the other bursts
def test_twenty_appointments_posted_at_once_all_complete_each_stored_and_settled_once(
    api: AppointmentsApi,
    kit_config: KitConfig,
    outputs: dict[str, str],
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
) -> None:
    insured, base, started_ms = random_insured_id("E2E"), random_schedule_id(), now_ms()
    bodies = [
        {"insuredId": insured, "scheduleId": base + n, "countryISO": names.country_in_turn(n)}
        for n in range(1, 21)
    ]

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(api.create, bodies))

    assert [reply.status for reply in replies] == [202] * 20
    expected = {reply.body["appointmentId"]: reply.body["countryISO"] for reply in replies}
    assert len(expected) == 20

    def all_settled() -> list[dict[str, object]] | None:
        items = api.list(insured).body["items"]
        return items if len(items) >= 20 and all(item["status"] != "pending" for item in items) else None

    # Settled, not completed: a 21st item or a rejection must fail the assertions below, not time out.
    items = wait_for(all_settled, timeout=deadlines.burst, interval=0.25, describe="20 appointments settled")
    told = wait_all_told(kit_config, outputs, started_ms, expected, timeout=deadlines.burst)
    rows = mysql_rows(mysql_admin, insured)
    print(
        f"posted 20: listed {len(items)}, MySQL rows {sum(rows.values())}, {told.summary()}",
    )
    assert sorted(item["appointmentId"] for item in items) == sorted(expected)
    assert {item["status"] for item in items} == {"completed"}
    assert rows == Counter({(table_of(c), i): 1 for i, c in expected.items()})
    # Delivered at least once: a second delivery of an appointment (SNS and SQS may repeat one;
    # a busy engine did, within three seconds of the POST) finds it stored and says so, and its
    # second announcement finds the status set.
    assert {
        i: found
        for i, found in told.outcomes.items()
        if found.count("scheduled") != 1 or set(found) - {"scheduled", f"scheduled{STORED_BEFORE}"}
    } == {}
    assert all(told.events_taken[i] >= 1 for i in expected), told.events_taken
    assert told.status_changes == Counter(dict.fromkeys(expected, 1))


def test_a_taken_slot_is_rejected_with_a_reason_and_the_same_slot_elsewhere_is_free(
    api: AppointmentsApi,
    kit_config: KitConfig,
    outputs: dict[str, str],
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
) -> None:
    insured, slot, started_ms = random_insured_id("E2E"), random_schedule_id(), now_ms()
    first = api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}).body["appointmentId"]
    wait_completed(api, insured, first, deadlines.flow)

    second = api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}).body["appointmentId"]
    other_country = api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "CL"}).body[
        "appointmentId"
    ]

    assert wait_settled(api, insured, second, deadlines.flow) == "rejected"
    wait_completed(api, insured, other_country, deadlines.flow)
    [rejected] = [item for item in api.list(insured).body["items"] if item["appointmentId"] == second]
    assert rejected["rejectionReason"] == f"schedule {slot} in PE is already taken"
    assert schemas_holding(mysql_admin, first) == [names.schema("PE")]
    assert schemas_holding(mysql_admin, second) == []
    told = wait_all_told(
        kit_config, outputs, started_ms, [first, second, other_country], timeout=deadlines.flow
    )
    assert slot_rows(mysql_admin, "PE", slot) == {"appointments": 1, "appointment_rejections": 1}
    assert mysql_rows(mysql_admin, insured) == Counter(
        {
            (table_of("PE"), first): 1,
            (table_of("PE", "appointment_rejections"), second): 1,
            (table_of("CL"), other_country): 1,
        }
    )
    assert told.outcomes == {first: ["scheduled"], second: ["rejected"], other_country: ["scheduled"]}
    assert told.callbacks == {i: ["appointment settled"] for i in (first, second, other_country)}


def test_two_bookings_of_one_slot_at_the_same_moment_give_one_appointment_and_one_rejection(
    api: AppointmentsApi,
    kit_config: KitConfig,
    outputs: dict[str, str],
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
) -> None:
    insureds, slot, started_ms = (
        [random_insured_id("E2E"), random_insured_id("E2E")],
        random_schedule_id(),
        now_ms(),
    )
    together = threading.Barrier(len(insureds))

    def book(insured: str) -> Reply:
        together.wait(timeout=30)  # two threads of this process, not the stack
        return api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"})

    with ThreadPoolExecutor(max_workers=len(insureds)) as pool:
        replies = list(pool.map(book, insureds))

    assert [reply.status for reply in replies] == [202, 202], replies
    ids = [reply.body["appointmentId"] for reply in replies]
    settled = {
        appointment_id: wait_settled(api, insured, appointment_id, deadlines.flow)
        for insured, appointment_id in zip(insureds, ids, strict=True)
    }
    told = wait_all_told(kit_config, outputs, started_ms, ids, timeout=deadlines.flow)
    slot_counts = slot_rows(mysql_admin, "PE", slot)
    print(f"two bookings of slot {slot} at once: {settled}, slot rows {slot_counts}, {told.summary()}")
    assert sorted(settled.values()) == ["completed", "rejected"]
    [(winner, _)] = [(i, s) for i, s in settled.items() if s == "completed"]
    [(loser, loser_insured)] = [(i, n) for i, n in zip(ids, insureds, strict=True) if i != winner]
    [rejected] = [item for item in api.list(loser_insured).body["items"] if item["appointmentId"] == loser]
    assert rejected["rejectionReason"] == f"schedule {slot} in PE is already taken"
    assert slot_counts == {"appointments": 1, "appointment_rejections": 1}
    assert mysql_rows(mysql_admin, insureds[0]) + mysql_rows(mysql_admin, insureds[1]) == Counter(
        {(table_of("PE"), winner): 1, (table_of("PE", "appointment_rejections"), loser): 1}
    )
    assert told.outcomes == {winner: ["scheduled"], loser: ["rejected"]}
    assert told.callbacks == {winner: ["appointment settled"], loser: ["appointment settled"]}
