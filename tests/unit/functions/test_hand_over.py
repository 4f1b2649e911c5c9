"""The reconciler's use case on the in-memory fakes: the sweep of what was accepted, the outbox
it fills, the waits between hand-overs, the time a run keeps in hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from appointments import hand_over as reconciling
from appointments import services
from appointments.domain import (
    Appointment,
    AppointmentRequest,
    AppointmentSettled,
    AppointmentStatus,
    Country,
    WriteUnconfirmed,
)
from tests.support.fakes import InMemoryAppointmentRepository, InMemoryRequestPublisher

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
AN_HOUR_LATER = T0 + timedelta(hours=1)


class Reads(InMemoryAppointmentRepository):
    """Records each page the run reads, in order: ("sweep" | "outbox", country)."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[str, Country]] = []

    def accepted_between(self, country, since, created_before, limit=100, after=None):  # type: ignore[no-untyped-def]
        self.pages.append(("sweep", country))
        return super().accepted_between(country, since, created_before, limit, after)

    def not_handed_over(self, country, created_before, limit=100, after=None, due_by=None):  # type: ignore[no-untyped-def]
        self.pages.append(("outbox", country))
        return super().not_handed_over(country, created_before, limit, after, due_by)


def request(insured: str = "PE001", schedule: int = 1, country: Country = Country.PE) -> AppointmentRequest:
    return AppointmentRequest(insured_id=insured, schedule_id=schedule, country=country)


def settle(appointment: Appointment, repository: InMemoryAppointmentRepository) -> None:
    event = AppointmentSettled(
        appointment.appointment_id,
        appointment.insured_id,
        appointment.schedule_id,
        appointment.country,
        AppointmentStatus.COMPLETED,
        T0,
        None,
    )
    services.settle_appointment(event, repository)


def backlog(
    repository: InMemoryAppointmentRepository, count: int, country: Country = Country.PE
) -> list[Appointment]:
    """`count` appointments the topic refused, a second apart from T0, oldest first."""
    refusing = InMemoryRequestPublisher()
    refusing.refusing = True
    first = 1 + len(repository.items)
    return [
        services.request_appointment(
            request(insured=f"{country}{n:05}", schedule=n, country=country),
            repository,
            refusing,
            clock=lambda n=n: T0 + timedelta(seconds=n),
        ).appointment
        for n in range(first, first + count)
    ]


def hand_over(
    repository: InMemoryAppointmentRepository,
    publisher: InMemoryRequestPublisher,
    seconds_left: Callable[[], float] = lambda: 60.0,
    at: datetime = AN_HOUR_LATER,
) -> reconciling.HandOverReport:
    return reconciling.hand_over_unpublished(
        repository, publisher, timedelta(seconds=60), seconds_left=seconds_left, clock=lambda: at
    )


def test_the_reconciler_hands_over_what_the_topic_refused_once_it_works_again() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True
    waiting = services.request_appointment(request(schedule=1), repository, publisher, clock=lambda: T0)
    publisher.refusing = False
    handed = services.request_appointment(request(schedule=2), repository, publisher, clock=lambda: T0)
    settle(handed.appointment, repository)  # its flow completed it
    minute_later = T0 + timedelta(minutes=1)

    report = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: minute_later
    )
    again = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: minute_later
    )

    assert report.handed_over == [waiting.appointment.appointment_id]
    assert again.handed_over == []  # handed over a moment ago: not due again yet
    assert again.still_waiting == {}
    assert publisher.published == [handed.appointment, waiting.appointment]
    # in the outbox now, until the callback's settling write takes it out
    assert repository.not_handed_over(Country.PE, minute_later).items == [waiting.appointment]
    settle(waiting.appointment, repository)
    assert repository.not_handed_over(Country.PE, minute_later).items == []


def test_an_appointment_still_not_settled_is_handed_over_again_only_after_a_wait_that_doubles() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    stuck = services.request_appointment(request(), repository, publisher, clock=lambda: T0).appointment
    # a processor's database is down: the appointment is published and never settled
    runs = [T0 + timedelta(minutes=minute) for minute in range(1, 17)]

    handed_at = [
        run
        for run in runs
        if reconciling.hand_over_unpublished(
            repository,
            publisher,
            timedelta(minutes=1),
            first_wait=timedelta(minutes=1),
            clock=lambda run=run: run,
        ).handed_over
    ]

    # once older than a minute (the first run after it: the sweep's), then 2, 4 and 8 minutes
    # later (the outbox walk's): four publishes in a quarter hour, not fifteen
    assert [int((at - T0).total_seconds() // 60) for at in handed_at] == [2, 4, 8, 16]
    assert publisher.published == [stuck] * 5  # the request's own, then the reconciler's four


def test_the_wait_before_the_next_hand_over_doubles_up_to_a_day() -> None:
    waits = [
        reconciling.wait_before_next_hand_over(timedelta(minutes=1), made) for made in (1, 2, 3, 20, 100)
    ]

    assert waits == [
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(days=1),
        timedelta(days=1),
    ]


class SettledMeanwhile(InMemoryAppointmentRepository):
    """The callback settles `settle_first` just before the reconciler records its hand-over."""

    settle_first: Appointment | None = None

    def mark_handed_over(self, appointment: Appointment, again_after: datetime) -> None:
        if appointment == self.settle_first:
            settle(appointment, self)
        super().mark_handed_over(appointment, again_after)


def test_an_appointment_settled_while_the_reconciler_publishes_it_counts_as_handed_over_and_stays_out() -> (
    None
):
    repository, publisher = SettledMeanwhile(), InMemoryRequestPublisher()
    accepted = services.request_appointment(request(), repository, publisher, clock=lambda: T0)
    repository.settle_first = accepted.appointment

    report = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(minutes=1), clock=lambda: T0 + timedelta(minutes=2)
    )

    assert (report.handed_over, report.still_waiting) == ([accepted.appointment.appointment_id], {})
    # settled: the outbox never holds it, so no run hands it over again
    assert repository.not_handed_over(Country.PE, T0 + timedelta(days=1)).items == []


def test_the_reconciler_leaves_young_appointments_to_the_request_still_answering_them() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True
    young = services.request_appointment(request(), repository, publisher, clock=lambda: T0).appointment
    publisher.refusing = False

    report = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: T0 + timedelta(seconds=10)
    )
    later = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: T0 + timedelta(minutes=5)
    )

    assert report.handed_over == []
    # the first run's sweep did not pass it: the run five minutes later finds it
    assert later.handed_over == [young.appointment_id]
    assert publisher.published == [young]


def test_the_sweep_mark_never_passes_an_appointment_younger_than_its_margin() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    backlog(repository, 3)
    now = T0 + timedelta(seconds=20)  # the appointments are 17 to 19 s old

    reconciling.hand_over_unpublished(repository, publisher, timedelta(0), clock=lambda: now)

    # handed over (asked for: olderThanSeconds 0), but the mark stays 30 s behind now, as a write
    # still under way could be listed before it
    assert len(publisher.published) == 3
    assert (
        repository.swept_to(Country.PE) is None
        or repository.swept_to(Country.PE) <= now - reconciling.SWEEP_MARGIN
    )


def test_while_the_topic_still_refuses_the_reconciler_keeps_the_appointment_in_the_outbox() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True
    accepted = services.request_appointment(request(), repository, publisher, clock=lambda: T0)

    report = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(0), clock=lambda: T0 + timedelta(1)
    )
    publisher.refusing = False
    healed = reconciling.hand_over_unpublished(
        repository, publisher, timedelta(0), clock=lambda: T0 + timedelta(2)
    )

    # put in the outbox by the sweep, and refused again by the same run's walk of it
    assert report.still_waiting == {accepted.appointment.appointment_id: "topic unavailable"}
    assert repository.not_handed_over(Country.PE, T0 + timedelta(1)).items == [accepted.appointment]
    assert healed.handed_over == [accepted.appointment.appointment_id]  # from the outbox
    assert publisher.published == [accepted.appointment]


def waiting_ids(repository: InMemoryAppointmentRepository, country: Country = Country.PE) -> list[str]:
    """The pending appointments a run at AN_HOUR_LATER would hand over: not in the outbox yet,
    or in it and due."""
    swept = repository.accepted_between(country, None, AN_HOUR_LATER, limit=10**6).unsettled
    due = repository.not_handed_over(country, AN_HOUR_LATER, limit=10**6, due_by=AN_HOUR_LATER).items
    return sorted(a.appointment_id for a in swept + due)


def test_the_reconciler_sweeps_a_page_at_a_time_the_countries_in_turn_and_publishes_each_page_as_a_batch() -> (
    None
):
    repository, publisher = Reads(), InMemoryRequestPublisher()
    waiting = backlog(repository, 250)

    report = hand_over(repository, publisher)

    assert report.walked
    assert report.handed_over == [a.appointment_id for a in waiting]  # oldest first
    assert report.still_waiting == {}
    assert [len(batch) for batch in publisher.batches] == [100, 100, 50]
    assert repository.pages[:5] == [
        ("sweep", "PE"),
        ("sweep", "CL"),
        ("sweep", "PE"),
        ("outbox", "CL"),
        ("sweep", "PE"),
    ]
    assert waiting_ids(repository) == []
    assert repository.swept_to(Country.PE) == waiting[-1].created_at  # the next run starts there


def test_the_reconciler_stops_before_its_time_runs_out_and_the_next_run_goes_on() -> None:
    repository, publisher = Reads(), InMemoryRequestPublisher()
    waiting = backlog(repository, 350)
    # What is left before each page: PE's first sweep page and CL's (empty) one are read, then
    # less than the reserve is left
    left = iter([60.0, 40.0, reconciling.RESERVED_SECONDS - 0.1])

    first = hand_over(repository, publisher, seconds_left=lambda: next(left))

    assert not first.walked
    assert first.handed_over == [a.appointment_id for a in waiting[:100]]
    assert first.still_waiting == {}  # the rest was not tried: it waits for the next run
    assert waiting_ids(repository) == sorted(a.appointment_id for a in waiting[100:])

    second = hand_over(repository, publisher)

    assert second.walked
    assert second.handed_over == [a.appointment_id for a in waiting[100:]]
    assert publisher.published == waiting  # each once, oldest first


def test_a_run_with_less_time_left_than_its_reserve_reads_nothing() -> None:
    repository, publisher = Reads(), InMemoryRequestPublisher()
    backlog(repository, 3)

    report = hand_over(repository, publisher, seconds_left=lambda: reconciling.RESERVED_SECONDS - 0.1)

    assert (report.walked, report.handed_over, repository.pages) == (False, [], [])


def test_the_countries_take_turns_so_a_backlog_in_one_does_not_keep_the_other_waiting() -> None:
    repository, publisher = Reads(), InMemoryRequestPublisher()
    peru = backlog(repository, 400, Country.PE)
    chile = backlog(repository, 30, Country.CL)
    left = iter([60.0, 50.0, 40.0, 5.0])

    report = hand_over(repository, publisher, seconds_left=lambda: next(left))

    assert repository.pages == [("sweep", "PE"), ("sweep", "CL"), ("sweep", "PE")]
    assert report.handed_over == [a.appointment_id for a in peru[:100] + chile + peru[100:200]]
    assert waiting_ids(repository, Country.CL) == []


class OneMarkFails(InMemoryAppointmentRepository):
    """Putting one appointment in the outbox fails (DynamoDB throttled it, say: the adapter
    reports that as WriteUnconfirmed); every other works."""

    def __init__(self) -> None:
        super().__init__()
        self.failing_id = ""

    def mark_handed_over(self, appointment: Appointment, again_after: datetime) -> None:
        if appointment.appointment_id == self.failing_id:
            self.failing_id = ""  # once
            raise WriteUnconfirmed(appointment)
        super().mark_handed_over(appointment, again_after)


def test_an_appointment_that_fails_is_reported_and_the_sweep_stops_before_its_page_until_the_next_run() -> (
    None
):
    repository, publisher = OneMarkFails(), InMemoryRequestPublisher()
    waiting = backlog(repository, 150)
    refused, unmarked = waiting[10], waiting[120]
    publisher.refused_ids = {refused.appointment_id}
    repository.failing_id = unmarked.appointment_id
    repository.unreadable.add((waiting[30].insured_id, waiting[30].appointment_id))

    report = hand_over(repository, publisher)

    assert report.still_waiting == {
        refused.appointment_id: "entry failed",  # kept in the outbox by the sweep, refused again by the walk
        waiting[30].appointment_id: "its item does not read as an appointment",
        unmarked.appointment_id: (
            "not put in the outbox (the sweep reads it again): "
            f"appointment {unmarked.appointment_id}: the store did not confirm the write"
        ),
    }
    failed = {refused.appointment_id, waiting[30].appointment_id, unmarked.appointment_id}
    assert report.handed_over == [a.appointment_id for a in waiting if a.appointment_id not in failed]
    assert unmarked in publisher.published
    assert refused not in publisher.published
    # the mark passed the first page, not the second, which holds the one not put in the outbox
    assert repository.swept_to(Country.PE) == waiting[99].created_at

    publisher.refused_ids = set()
    second = hand_over(repository, publisher)

    # the second page again (only the one not in the outbox is new to it), and the refused one from the outbox
    assert sorted(second.handed_over) == sorted([unmarked.appointment_id, refused.appointment_id])
    assert repository.swept_to(Country.PE) == waiting[-1].created_at


def test_a_page_the_store_would_not_read_is_read_again_by_the_next_run() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    waiting = backlog(repository, 5)
    repository.reads_throttled = 1

    first = hand_over(repository, publisher)
    second = hand_over(repository, publisher)

    assert first.handed_over == []
    assert set(first.still_waiting) == {a.appointment_id for a in waiting}
    assert repository.swept_to(Country.PE) == waiting[-1].created_at
    assert second.handed_over == [a.appointment_id for a in waiting]


def test_a_mark_not_recorded_costs_a_second_read_and_nothing_else() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    waiting = backlog(repository, 5)
    repository.sweep_records_failing = 1

    first = hand_over(repository, publisher)
    second = hand_over(repository, publisher)

    assert first.handed_over == [a.appointment_id for a in waiting]
    assert repository.swept_to(Country.PE) == waiting[-1].created_at  # the second run's record
    assert second.handed_over == []  # read again, each in the outbox already: none published twice
    assert publisher.published == waiting


def test_each_pages_outcome_is_told_before_the_next_page_is_read() -> None:
    repository, publisher = Reads(), InMemoryRequestPublisher()
    waiting = backlog(repository, 150)
    publisher.refused_ids = {waiting[120].appointment_id}
    told: list[tuple[Country, int, list[str], int]] = []

    def on_page(page: reconciling.PageHandedOver) -> None:
        told.append((page.country, len(page.handed_over), list(page.still_waiting), len(repository.pages)))

    reconciling.hand_over_unpublished(
        repository, publisher, timedelta(seconds=60), clock=lambda: AN_HOUR_LATER, on_page=on_page
    )

    assert told[:3] == [
        (Country.PE, 100, [], 1),
        (Country.CL, 0, [], 2),
        (Country.PE, 49, [waiting[120].appointment_id], 3),
    ]


def test_while_the_topic_refuses_every_batch_the_run_still_walks_the_whole_backlog() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    waiting = backlog(repository, 120) + backlog(repository, 5, Country.CL)
    publisher.refusing = True

    report = hand_over(repository, publisher)

    assert report.walked
    assert report.handed_over == []
    assert sorted(report.still_waiting) == sorted(a.appointment_id for a in waiting)
    assert set(report.still_waiting.values()) == {"topic unavailable"}
    assert waiting_ids(repository) == sorted(a.appointment_id for a in waiting[:120])  # each due again
