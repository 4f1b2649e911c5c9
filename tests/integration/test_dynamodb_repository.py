"""The DynamoDB repository against the engine: what is particular to the table (the facts it
shares with the fake are in test_port_contracts.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.dynamodb_items import OUTBOX_ATTRIBUTE, new_item, to_item
from appointments.domain import Appointment, Country
from bootstrap import names
from bootstrap.dev.kit import Stack
from tests.support.appointments import appointment
from tests.support.random_refs import random_schedule_id


@pytest.fixture
def repository(aws: Callable[[str], Any], stack: Stack) -> DynamoAppointmentRepository:
    return DynamoAppointmentRepository(stack.outputs[names.TABLE_NAME], aws("dynamodb"))


def test_an_added_appointment_reads_back_identical(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    item = appointment(unique_id, country=Country.CL, correlation_id=f"req-{unique_id}")

    repository.add(item)

    assert repository.list_for_insured(unique_id).items == [item]


def test_the_list_is_newest_first_and_scoped_to_the_insured(
    repository: DynamoAppointmentRepository, unique_id: str
) -> None:
    base = random_schedule_id()
    mine = [appointment(unique_id, schedule=base + n) for n in range(1, 4)]
    for item in mine:
        repository.add(item)
    repository.add(appointment(unique_id + "X"))

    listed = repository.list_for_insured(unique_id).items

    assert [a.schedule_id - base for a in listed] == [3, 2, 1]
    assert repository.list_for_insured("NOBODY" + unique_id).items == []


def put_directly(
    aws: Callable[[str], Any], table: str, appointments: list[Appointment], pad: int = 0
) -> None:
    """Items as the repository writes them, in batches of 25, with `pad` bytes of an attribute the
    repository does not read (to make items large)."""
    dynamodb = aws("dynamodb")
    for start in range(0, len(appointments), 25):
        requests = []
        for written in appointments[start : start + 25]:
            item = to_item(written) | ({"padding": {"S": "x" * pad}} if pad else {})
            requests.append({"PutRequest": {"Item": item}})
        dynamodb.batch_write_item(RequestItems={table: requests})


def walk(repository: DynamoAppointmentRepository, insured: str, limit: int) -> list[list[Appointment]]:
    pages, after = [], None
    while True:
        page = repository.list_for_insured(insured, limit=limit, after=after)
        pages.append(page.items)
        if page.after is None:
            return pages
        after = page.after


def test_more_appointments_than_the_largest_page_come_in_pages_each_once(
    repository: DynamoAppointmentRepository, aws: Callable[[str], Any], stack: Stack, unique_id: str
) -> None:
    mine = [appointment(unique_id) for _ in range(120)]
    put_directly(aws, stack.outputs[names.TABLE_NAME], mine)

    pages = walk(repository, unique_id, limit=50)

    assert [len(page) for page in pages] == [50, 50, 20]
    assert [a for page in pages for a in page] == sorted(mine, key=lambda a: a.appointment_id, reverse=True)


def test_a_query_cut_short_by_the_1_mb_page_continues_where_it_stopped(
    repository: DynamoAppointmentRepository, aws: Callable[[str], Any], stack: Stack, unique_id: str
) -> None:
    mine = [appointment(unique_id) for _ in range(6)]
    put_directly(aws, stack.outputs[names.TABLE_NAME], mine, pad=300_000)  # 1.8 MB in all

    pages = walk(repository, unique_id, limit=100)

    print(f"six 300 kB items, limit 100: pages of {[len(page) for page in pages]}")
    assert len(pages) > 1
    assert [a for page in pages for a in page] == sorted(mine, key=lambda a: a.appointment_id, reverse=True)


def test_an_outbox_item_that_does_not_read_is_reported_by_its_id_and_the_page_goes_on(
    repository: DynamoAppointmentRepository, aws: Callable[[str], Any], stack: Stack, unique_id: str
) -> None:
    old = datetime(2003, 1, 1, tzinfo=UTC)
    readable = [appointment(unique_id, created=old) for _ in range(2)]
    broken = appointment(unique_id, created=old)
    for item in readable:
        repository.add(item)
        repository.keep_for_hand_over(item)
    # in the outbox (as the sweep leaves one), in a shape no reader knows
    item = new_item(broken) | {"scheduleId": {"S": "not a number"}, OUTBOX_ATTRIBUTE: {"S": "PE"}}
    table, dynamodb = stack.outputs[names.TABLE_NAME], aws("dynamodb")
    dynamodb.put_item(TableName=table, Item=item)

    found, unreadable, after = [], [], None
    while True:
        page = repository.not_handed_over(Country.PE, old + timedelta(minutes=1), limit=2, after=after)
        found += [a for a in page.items if a.insured_id == unique_id]
        unreadable += page.unreadable
        if page.after is None:
            break
        after = page.after

    assert sorted(found, key=lambda a: a.appointment_id) == sorted(readable, key=lambda a: a.appointment_id)
    assert broken.appointment_id in unreadable
    for stored in [*readable, broken]:
        dynamodb.delete_item(
            TableName=table,
            Key={"insuredId": {"S": unique_id}, "appointmentId": {"S": stored.appointment_id}},
        )
