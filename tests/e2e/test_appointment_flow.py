"""The whole flow, only through the public HTTP API, then checked where it lands (MySQL)."""

from __future__ import annotations

import random
import uuid
from concurrent.futures import ThreadPoolExecutor

import pymysql
import pytest

from tests.e2e.api_client import AppointmentsApi
from tests.polling import wait_for

FLOW_TIMEOUT = 30.0
SCHEMAS = {"PE": "mysql_pe", "CL": "mysql_cl"}


def fresh_insured() -> str:
    return "E2E" + uuid.uuid4().hex[:16].upper()


def fresh_schedule() -> int:
    """A slot no earlier run holds: MySQL keeps each (country, schedule) slot for good."""
    return random.randrange(10**12, 10**13)


def wait_settled(api: AppointmentsApi, insured_id: str, appointment_id: str) -> str:
    return wait_for(
        lambda: (
            (api.status_of(insured_id, appointment_id) or "pending") != "pending"
            and api.status_of(insured_id, appointment_id)
        ),
        timeout=FLOW_TIMEOUT,
        describe=f"appointment {appointment_id} settled",
    )


def wait_completed(api: AppointmentsApi, insured_id: str, appointment_id: str) -> None:
    assert wait_settled(api, insured_id, appointment_id) == "completed"


def free_slot(admin: pymysql.connections.Connection, country: str, schedule_id: int) -> None:
    """The seed's requests always ask for slot 1: release it from earlier runs."""
    with admin.cursor() as cursor:
        cursor.execute(f"DELETE FROM {SCHEMAS[country]}.appointments WHERE schedule_id = %s", (schedule_id,))  # noqa: S608


def schemas_holding(admin: pymysql.connections.Connection, appointment_id: str) -> list[str]:
    found = []
    with admin.cursor() as cursor:
        for schema in SCHEMAS.values():
            cursor.execute(
                f"SELECT COUNT(*) FROM {schema}.appointments WHERE appointment_id = %s",  # noqa: S608
                (appointment_id,),
            )
            found += [schema] * cursor.fetchone()[0]
    return found


@pytest.mark.parametrize(
    "seed_request",
    [
        {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"},
        {"insuredId": "CL001", "scheduleId": 1, "countryISO": "CL"},
    ],
    ids=["PE", "CL"],
)
def test_the_seed_request_reaches_completed_and_lands_in_its_country_schema_only(
    api: AppointmentsApi, mysql_admin: pymysql.connections.Connection, seed_request: dict[str, object]
) -> None:
    free_slot(mysql_admin, str(seed_request["countryISO"]), 1)
    accepted = api.create(seed_request)
    assert accepted.status == 202, accepted
    assert accepted.body["status"] == "pending"
    appointment_id = accepted.body["appointmentId"]

    wait_completed(api, str(seed_request["insuredId"]), appointment_id)

    assert schemas_holding(mysql_admin, appointment_id) == [SCHEMAS[str(seed_request["countryISO"])]]


def test_a_bad_request_is_refused_with_400_and_never_stored(api: AppointmentsApi) -> None:
    insured = fresh_insured()

    reply = api.create({"insuredId": insured, "scheduleId": 0, "countryISO": "AR"})
    not_json = api.create_raw(b"{not json")

    assert reply.status == 400
    assert sorted(error["field"] for error in reply.body["errors"]) == ["countryISO", "scheduleId"]
    assert not_json.status == 400
    assert api.list(insured).body == {"items": []}


def test_the_list_shows_an_insureds_appointments_newest_first_with_their_status(api: AppointmentsApi) -> None:
    insured, base = fresh_insured(), fresh_schedule()
    ids = [
        api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": country}).body[
            "appointmentId"
        ]
        for n, country in [(1, "PE"), (2, "CL"), (3, "PE")]
    ]
    for appointment_id in ids:
        wait_completed(api, insured, appointment_id)

    listed = api.list(insured)

    assert listed.status == 200
    assert [item["appointmentId"] for item in listed.body["items"]] == ids[::-1]
    assert [item["scheduleId"] - base for item in listed.body["items"]] == [3, 2, 1]
    assert {item["status"] for item in listed.body["items"]} == {"completed"}
    assert api.list(fresh_insured()).body == {"items": []}


def test_twenty_appointments_posted_at_once_all_complete_each_in_one_schema(
    api: AppointmentsApi, mysql_admin: pymysql.connections.Connection
) -> None:
    insured, base = fresh_insured(), fresh_schedule()
    bodies = [
        {"insuredId": insured, "scheduleId": base + n, "countryISO": "PE" if n % 2 else "CL"}
        for n in range(1, 21)
    ]

    with ThreadPoolExecutor(max_workers=20) as pool:
        replies = list(pool.map(api.create, bodies))

    assert [reply.status for reply in replies] == [202] * 20
    expected = {reply.body["appointmentId"]: reply.body["countryISO"] for reply in replies}
    assert len(expected) == 20

    def all_completed() -> bool:
        items = api.list(insured).body["items"]
        return len(items) == 20 and all(item["status"] == "completed" for item in items)

    wait_for(all_completed, timeout=FLOW_TIMEOUT * 2, interval=0.25, describe="20 appointments completed")
    for appointment_id, country in expected.items():
        assert schemas_holding(mysql_admin, appointment_id) == [SCHEMAS[country]]


def test_a_taken_slot_is_rejected_with_a_reason_and_the_same_slot_elsewhere_is_free(
    api: AppointmentsApi, mysql_admin: pymysql.connections.Connection
) -> None:
    insured, slot = fresh_insured(), fresh_schedule()
    first = api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}).body["appointmentId"]
    wait_completed(api, insured, first)

    second = api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}).body["appointmentId"]
    other_country = api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "CL"}).body[
        "appointmentId"
    ]

    assert wait_settled(api, insured, second) == "rejected"
    wait_completed(api, insured, other_country)
    [rejected] = [item for item in api.list(insured).body["items"] if item["appointmentId"] == second]
    assert rejected["rejectionReason"] == f"schedule {slot} in PE is already taken"
    assert schemas_holding(mysql_admin, first) == ["mysql_pe"]
    assert schemas_holding(mysql_admin, second) == []
