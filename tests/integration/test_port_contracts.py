"""One suite per port, run against the in-memory fake and the real adapter alike: a use-case
test that passes against the fake passes for the same reason against MySQL and DynamoDB, since
both report the same facts (AlreadyStored, SlotTaken, StatusChanged, AppointmentNotFound)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pymysql
import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.mysql import MySqlCountryUnitOfWork
from appointments.adapters.ssm import SsmMySqlSettings
from appointments.domain import (
    AlreadyStored,
    Appointment,
    AppointmentNotFound,
    AppointmentStatus,
    Country,
    SlotTaken,
    StatusChange,
    StatusChanged,
)
from appointments.ports import AppointmentRepository, CountryUnitOfWork
from appointments.services import new_appointment_id
from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from tests.support.appointments import appointment
from tests.support.fakes import InMemoryAppointmentRepository, InMemoryCountryUnitOfWork

T0 = datetime(2026, 11, 28, 10, 0, 0, 123000, tzinfo=UTC)


# ------------------------------------------------------------------ the country's unit of work

StoredIds = Callable[[str], set[str]]  # table -> the committed appointment ids


@pytest.fixture(params=["in-memory", "mysql"])
def country_uow(
    request: pytest.FixtureRequest, kit_config: KitConfig, stack: Stack, engine_env: None
) -> Iterator[tuple[CountryUnitOfWork, StoredIds]]:
    if request.param == "in-memory":
        fake = InMemoryCountryUnitOfWork()
        yield fake, lambda table: set(fake.rows if table == "appointments" else fake.rejections)
        return
    admin: pymysql.connections.Connection = request.getfixturevalue("mysql_admin")
    real = MySqlCountryUnitOfWork(
        SsmMySqlSettings(names.db_parameters_path(kit_config.db_parameters_prefix, Country.PE), max_age=0)
    )
    schema = names.schema(Country.PE)

    def committed(table: str) -> set[str]:
        with admin.cursor() as cursor:
            cursor.execute(f"SELECT appointment_id FROM {schema}.{table} WHERE insured_id LIKE 'CT%%'")  # noqa: S608
            return {row[0] for row in cursor.fetchall()}

    yield real, committed
    real.close()


def test_a_committed_appointment_is_stored_and_its_id_is_then_already_stored(
    country_uow: tuple[CountryUnitOfWork, StoredIds],
) -> None:
    uow, stored = country_uow
    item = appointment("CT1")

    with uow:
        uow.add_appointment(item)
        uow.commit()

    assert item.appointment_id in stored("appointments")
    with uow, pytest.raises(AlreadyStored):
        uow.add_appointment(item)


def test_a_slot_held_by_another_appointment_is_reported_taken(
    country_uow: tuple[CountryUnitOfWork, StoredIds],
) -> None:
    uow, stored = country_uow
    first = appointment("CT2")
    second = appointment("CT3", schedule=first.schedule_id)
    with uow:
        uow.add_appointment(first)
        uow.commit()

    with uow, pytest.raises(SlotTaken):
        uow.add_appointment(second)

    assert second.appointment_id not in stored("appointments")


def test_a_rejection_is_recorded_once(country_uow: tuple[CountryUnitOfWork, StoredIds]) -> None:
    uow, stored = country_uow
    item = appointment("CT4")
    with uow:
        uow.add_rejection(item)
        uow.commit()

    with uow, pytest.raises(AlreadyStored):
        uow.add_rejection(item)

    assert item.appointment_id in stored("appointment_rejections")


def test_nothing_is_kept_without_a_commit(country_uow: tuple[CountryUnitOfWork, StoredIds]) -> None:
    uow, stored = country_uow
    item = appointment("CT5")

    with uow:
        uow.add_appointment(item)
        uow.add_rejection(appointment("CT5"))

    assert item.appointment_id not in stored("appointments")
    with uow:  # the slot and the id are free again
        uow.add_appointment(item)
        uow.commit()
    assert item.appointment_id in stored("appointments")


def test_what_a_failed_block_added_is_rolled_back(country_uow: tuple[CountryUnitOfWork, StoredIds]) -> None:
    uow, stored = country_uow
    item = appointment("CT6")

    def announce_fails() -> None:
        with uow:
            uow.add_appointment(item)
            raise ConnectionError("the announcement failed")

    with pytest.raises(ConnectionError):
        announce_fails()

    assert item.appointment_id not in stored("appointments")


# ------------------------------------------------------------------ the appointments repository


@pytest.fixture(params=["in-memory", "dynamodb"])
def repository(request: pytest.FixtureRequest, kit_config: KitConfig, stack: Stack) -> AppointmentRepository:
    if request.param == "in-memory":
        return InMemoryAppointmentRepository()
    return DynamoAppointmentRepository(
        stack.outputs[names.TABLE_NAME],
        kit_config.client("dynamodb"),
        sweep_table=stack.outputs[names.SWEEP_TABLE_NAME],
    )


def test_an_id_stored_before_is_never_overwritten(repository: AppointmentRepository, unique_id: str) -> None:
    item = appointment(unique_id)
    repository.add(item)
    other = dataclasses.replace(item, schedule_id=item.schedule_id + 1)

    with pytest.raises(AlreadyStored):
        repository.add(other)

    assert repository.list_for_insured(unique_id).items == [item]


def test_the_same_appointment_written_again_is_recognised_and_keeps_its_status(
    repository: AppointmentRepository, unique_id: str
) -> None:
    # What botocore's retry of a PutItem that had landed does, and a retry with an Idempotency-Key
    # after a write whose answer was lost: the appointment this request made is found, not refused.
    item = appointment(unique_id)
    repository.add(item)
    repository.change_status(StatusChange(unique_id, item.appointment_id, AppointmentStatus.COMPLETED, T0))

    repository.add(item)

    [stored] = repository.list_for_insured(unique_id).items
    assert (stored.appointment_id, stored.status) == (item.appointment_id, AppointmentStatus.COMPLETED)


def test_a_status_changes_only_from_the_status_the_change_expects(
    repository: AppointmentRepository, unique_id: str
) -> None:
    item = appointment(unique_id)
    repository.add(item)
    later = T0 + timedelta(seconds=5)

    repository.change_status(
        StatusChange(unique_id, item.appointment_id, AppointmentStatus.REJECTED, later, "taken")
    )
    with pytest.raises(StatusChanged) as changed:
        repository.change_status(
            StatusChange(unique_id, item.appointment_id, AppointmentStatus.COMPLETED, later)
        )

    assert changed.value.current is AppointmentStatus.REJECTED
    [stored] = repository.list_for_insured(unique_id).items
    assert (stored.status, stored.rejection_reason, stored.updated_at) == (
        AppointmentStatus.REJECTED,
        "taken",
        later,
    )


def test_changing_a_missing_appointment_is_not_found(
    repository: AppointmentRepository, unique_id: str
) -> None:
    with pytest.raises(AppointmentNotFound):
        repository.change_status(
            StatusChange(unique_id, new_appointment_id(), AppointmentStatus.COMPLETED, T0)
        )
    with pytest.raises(AppointmentNotFound):
        repository.mark_handed_over(appointment(unique_id), T0)
    assert repository.list_for_insured(unique_id).items == []


def settle(repository: AppointmentRepository, settled: Appointment) -> None:
    """What the callback does: the status change that also takes the appointment out of the outbox."""
    repository.change_status(
        StatusChange(settled.insured_id, settled.appointment_id, AppointmentStatus.COMPLETED, T0)
    )


def test_an_appointment_kept_in_the_outbox_waits_there_until_settled_and_a_handed_over_one_until_due(
    repository: AppointmentRepository, unique_id: str
) -> None:
    # Far in the future, so the query below finds ours and not what other tests left waiting, and
    # the shared stack's reconciler, whose walk and sweep stop short of now, never takes them.
    old = datetime(2201, 1, 1, tzinfo=UTC)
    waiting, settled, handed = (appointment(unique_id, created=old) for _ in range(3))
    young = appointment(unique_id, created=old + timedelta(minutes=5))
    for item in (waiting, settled, handed, young):
        repository.add(item)
        repository.keep_for_hand_over(item)  # what the sweep does with one still pending
    settle(repository, settled)
    repository.mark_handed_over(handed, again_after=datetime.now(UTC) + timedelta(hours=1))
    before, now = old + timedelta(minutes=1), datetime.now(UTC)

    due = {a.appointment_id for a in walk_outbox(repository, Country.PE, before, due_by=now)}
    marked = walk_outbox(repository, Country.PE, before)

    assert waiting.appointment_id in due
    assert not due & {settled.appointment_id, handed.appointment_id, young.appointment_id}
    assert {a.appointment_id for a in marked} >= {waiting.appointment_id, handed.appointment_id}
    assert settled.appointment_id not in {a.appointment_id for a in marked}
    assert not {a.appointment_id for a in walk_outbox(repository, Country.CL, before)} & {
        waiting.appointment_id
    }
    for item in (waiting, handed, young):
        settle(repository, item)


def test_each_hand_over_is_counted_on_the_appointment_and_read_with_its_outbox_page(
    repository: AppointmentRepository, unique_id: str
) -> None:
    old = datetime(2201, 2, 1, tzinfo=UTC)  # the future, as above
    item = appointment(unique_id, created=old)
    repository.add(item)
    repository.mark_handed_over(item, again_after=old)  # the sweep's: it puts it in the outbox
    repository.mark_handed_over(item, again_after=old)

    counted: dict[str, int] = {}
    after = None
    while True:
        page = repository.not_handed_over(Country.PE, old + timedelta(seconds=1), after=after)
        counted |= page.hand_overs
        if page.after is None:
            break
        after = page.after

    assert counted.get(item.appointment_id) == 2
    settle(repository, item)


def walk_outbox(
    repository: AppointmentRepository,
    country: Country,
    before: datetime,
    limit: int = 100,
    due_by: datetime | None = None,
) -> list[Appointment]:
    found: list[Appointment] = []
    after = None
    while True:
        page = repository.not_handed_over(country, before, limit, after, due_by=due_by)
        found += page.items
        if page.after is None:
            return found
        after = page.after


def test_the_outbox_comes_a_page_at_a_time_oldest_first_even_as_the_pages_read_are_settled(
    repository: AppointmentRepository, unique_id: str
) -> None:
    old = datetime(2202, 1, 1, tzinfo=UTC)  # the future, as above
    before = old + timedelta(minutes=1)
    waiting = [appointment(unique_id, created=old + timedelta(seconds=n)) for n in (3, 1, 4, 0, 2)]
    for item in waiting:
        repository.add(item)
        repository.keep_for_hand_over(item)

    pages, after = [], None
    while True:
        page = repository.not_handed_over(Country.PE, before, limit=2, after=after)
        pages.append(page)
        for item in page.items:  # as the callback may, before the reconciler reads the next page
            if item.insured_id == unique_id:  # another test's items may wait beside ours
                settle(repository, item)
        if page.after is None:
            break
        after = page.after

    ours = [a for page in pages for a in page.items if a.insured_id == unique_id]
    assert ours == sorted(waiting, key=lambda a: a.created_at)
    assert len(pages) >= 3
    assert all(len(page.items) + len(page.unreadable) <= 2 for page in pages)
    assert not [a for a in walk_outbox(repository, Country.PE, before) if a.insured_id == unique_id]


def test_the_sweep_lists_a_countrys_pending_appointments_not_in_the_outbox_oldest_first_a_page_at_a_time(
    repository: AppointmentRepository, unique_id: str
) -> None:
    # a span of its own, no other test writes there; in the future, where the shared stack's
    # reconciler never sweeps (a fresh stack's first sweeps start from the earliest appointment)
    old = datetime(2204, 1, 1, tzinfo=UTC)
    pending = [appointment(unique_id, created=old + timedelta(seconds=n)) for n in (4, 0, 2)]
    settled, kept = (
        appointment(unique_id, created=old + timedelta(seconds=1)),
        appointment(unique_id, created=old),
    )
    chilean = appointment(unique_id, country=Country.CL, created=old + timedelta(seconds=3))
    too_young = appointment(unique_id, created=old + timedelta(minutes=1))  # the span's end is not in it
    for item in (*pending, settled, kept, chilean, too_young):
        repository.add(item)
    settle(repository, settled)
    repository.keep_for_hand_over(kept)

    pages, after = [], None
    while True:
        page = repository.accepted_between(Country.PE, old, old + timedelta(minutes=1), limit=2, after=after)
        pages.append(page)
        if page.after is None:
            break
        after = page.after

    # all five PE ones of the span read (two a page), the pending ones not in the outbox kept
    assert [a for page in pages for a in page.unsettled] == sorted(pending, key=lambda a: a.created_at)
    assert [page.reached for page in pages if page.reached][-1] == old + timedelta(seconds=4)
    assert all(not page.unread and not page.unreadable for page in pages)
    # an empty span is an empty page (DynamoDB would refuse its BETWEEN)
    assert (
        repository.accepted_between(
            Country.PE, old + timedelta(minutes=1), old + timedelta(minutes=1)
        ).unsettled
        == []
    )
    for item in (*pending, kept, chilean, too_young):
        settle(repository, item)


def test_a_sweep_mark_is_recorded_and_never_moves_back(repository: AppointmentRepository) -> None:
    # the shared stack's own mark: only moved to a moment long past, which it has passed already
    # once the reconciler has run (never back: the record says so and changes nothing)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)

    assert repository.record_swept_to(Country.CL, long_ago + timedelta(days=1))
    assert repository.record_swept_to(Country.CL, long_ago)
    reached = repository.swept_to(Country.CL)

    assert reached is not None
    assert reached >= long_ago + timedelta(days=1)


def test_a_long_list_comes_a_page_at_a_time_each_appointment_once_newest_first(
    repository: AppointmentRepository, unique_id: str
) -> None:
    ids = sorted((appointment(unique_id) for _ in range(7)), key=lambda a: a.appointment_id, reverse=True)
    for item in ids:
        repository.add(item)

    first = repository.list_for_insured(unique_id, limit=3)
    second = repository.list_for_insured(unique_id, limit=3, after=first.after)
    last = repository.list_for_insured(unique_id, limit=3, after=second.after)

    assert [first.items, second.items, last.items] == [ids[:3], ids[3:6], ids[6:]]
    assert (first.after, second.after, last.after) == (ids[2].appointment_id, ids[5].appointment_id, None)
    assert repository.list_for_insured(unique_id, limit=7).after is None  # exactly full: no more
    assert repository.list_for_insured(unique_id, limit=3, after=ids[-1].appointment_id).items == []
