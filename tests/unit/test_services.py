from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from appointments import services
from appointments.domain import (
    Appointment,
    AppointmentNotFound,
    AppointmentRequest,
    AppointmentSettled,
    AppointmentStatus,
    Country,
    PublishFailed,
    SlotOutcome,
    StatusChange,
    StatusMovesForwardOnly,
    WrongCountry,
)
from tests.unit.fakes import (
    InMemoryAppointmentRepository,
    InMemoryCountryUnitOfWork,
    InMemoryEventPublisher,
    InMemoryRequestPublisher,
)

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def ticking_clock(start: datetime = T0, step: timedelta = timedelta(seconds=1)) -> services.Clock:
    ticks = count()
    return lambda: start + step * next(ticks)


def request(insured: str = "PE001", schedule: int = 1, country: Country = Country.PE) -> AppointmentRequest:
    return AppointmentRequest(insured_id=insured, schedule_id=schedule, country=country)


def test_a_requested_appointment_is_stored_pending_and_published_once() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()

    accepted = services.request_appointment(request(), repository, publisher, clock=ticking_clock())
    appointment = accepted.appointment

    assert accepted.handed_over
    assert appointment.status is AppointmentStatus.PENDING
    assert appointment.created_at == T0
    assert repository.list_for_insured("PE001").items == [appointment]
    assert publisher.published == [appointment]
    assert repository.not_handed_over(created_before=T0 + timedelta(days=1)) == []


def test_when_the_topic_refuses_the_appointment_is_still_accepted_and_waits_in_the_outbox() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True

    accepted = services.request_appointment(request(), repository, publisher, clock=lambda: T0)

    assert not accepted.handed_over
    assert publisher.published == []
    assert repository.list_for_insured("PE001").items == [accepted.appointment]
    assert repository.not_handed_over(created_before=T0 + timedelta(seconds=1)) == [accepted.appointment]


def test_the_reconciler_hands_over_what_the_topic_refused_once_it_works_again() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True
    waiting = services.request_appointment(request(schedule=1), repository, publisher, clock=lambda: T0)
    publisher.refusing = False
    handed = services.request_appointment(request(schedule=2), repository, publisher, clock=lambda: T0)
    minute_later = T0 + timedelta(minutes=1)

    report = services.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: minute_later
    )
    again = services.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: minute_later
    )

    assert report.handed_over == [waiting.appointment.appointment_id]
    assert again.handed_over == again.still_waiting == []
    assert publisher.published == [handed.appointment, waiting.appointment]


def test_the_reconciler_leaves_young_appointments_to_the_request_still_answering_them() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True
    services.request_appointment(request(), repository, publisher, clock=lambda: T0)
    publisher.refusing = False

    report = services.hand_over_unpublished(
        repository, publisher, timedelta(seconds=30), clock=lambda: T0 + timedelta(seconds=10)
    )

    assert report.handed_over == []
    assert publisher.published == []


def test_while_the_topic_still_refuses_the_reconciler_keeps_the_appointment_waiting() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True
    accepted = services.request_appointment(request(), repository, publisher, clock=lambda: T0)

    report = services.hand_over_unpublished(
        repository, publisher, timedelta(0), clock=lambda: T0 + timedelta(1)
    )

    assert report.still_waiting == [accepted.appointment.appointment_id]
    assert len(repository.not_handed_over(created_before=T0 + timedelta(1))) == 1


def test_appointment_ids_are_unique_and_sort_by_creation_time() -> None:
    ids = [services.new_appointment_id() for _ in range(200)]

    assert len(set(ids)) == 200
    assert all(len(i) == 26 for i in ids)
    first, later = ids[0], services.new_appointment_id()
    assert later[:10] >= first[:10]  # the first 10 characters encode the millisecond


def test_an_insured_sees_only_their_appointments_newest_first() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    ids = iter(["01A", "01B", "01C"])
    made = [
        services.request_appointment(
            request(insured=insured), repository, publisher, new_id=lambda: next(ids)
        ).appointment
        for insured in ("PE001", "CL001", "PE001")
    ]

    listed = services.list_appointments("PE001", repository, limit=10).items

    assert [a.appointment_id for a in listed] == [made[2].appointment_id, made[0].appointment_id]
    assert services.list_appointments("NOBODY", repository, limit=10).items == []


def new_appointment(country: Country = Country.PE, schedule: int = 1, insured: str = "PE001") -> Appointment:
    return services.request_appointment(
        request(insured=insured, schedule=schedule, country=country),
        InMemoryAppointmentRepository(),
        InMemoryRequestPublisher(),
        clock=lambda: T0,
    ).appointment


def test_the_processor_holds_the_slot_and_announces_it_scheduled() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    appointment = new_appointment(country=Country.CL, schedule=7)

    outcome = services.schedule_in_country(appointment, Country.CL, store, events, clock=lambda: T0)

    assert outcome is SlotOutcome.SCHEDULED
    assert store.rows == {appointment.appointment_id: appointment}
    [event] = events.events
    assert (event.appointment_id, event.status, event.reason, event.settled_at) == (
        appointment.appointment_id,
        AppointmentStatus.COMPLETED,
        None,
        T0,
    )


def test_a_repeated_delivery_gives_one_row_and_one_event() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    appointment = new_appointment()

    first = services.schedule_in_country(appointment, Country.PE, store, events)
    again = services.schedule_in_country(appointment, Country.PE, store, events)

    assert (first, again) == (SlotOutcome.SCHEDULED, SlotOutcome.ALREADY_HANDLED)
    assert len(store.rows) == 1
    assert len(events.events) == 1


def test_a_failed_announcement_keeps_nothing_so_the_retry_does_both() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher(fail_times=1)
    appointment = new_appointment()

    with pytest.raises(PublishFailed):
        services.schedule_in_country(appointment, Country.PE, store, events)
    assert store.rows == {}
    assert store.commits == 0

    assert services.schedule_in_country(appointment, Country.PE, store, events) is SlotOutcome.SCHEDULED
    assert len(store.rows) == 1
    assert len(events.events) == 1


def test_a_taken_slot_rejects_the_second_booking_once_with_a_reason() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    first, second = new_appointment(schedule=5), new_appointment(schedule=5, insured="PE002")

    services.schedule_in_country(first, Country.PE, store, events)
    outcome = services.schedule_in_country(second, Country.PE, store, events)
    again = services.schedule_in_country(second, Country.PE, store, events)

    assert (outcome, again) == (SlotOutcome.REJECTED, SlotOutcome.ALREADY_HANDLED)
    assert list(store.rows) == [first.appointment_id]
    assert [(e.appointment_id, e.status) for e in events.events] == [
        (first.appointment_id, AppointmentStatus.COMPLETED),
        (second.appointment_id, AppointmentStatus.REJECTED),
    ]
    assert events.events[1].reason == "schedule 5 in PE is already taken"


def test_the_same_schedule_in_another_country_is_another_slot() -> None:
    pe_store, cl_store, events = (
        InMemoryCountryUnitOfWork(),
        InMemoryCountryUnitOfWork(),
        InMemoryEventPublisher(),
    )

    pe = services.schedule_in_country(new_appointment(Country.PE, 9), Country.PE, pe_store, events)
    cl = services.schedule_in_country(new_appointment(Country.CL, 9), Country.CL, cl_store, events)

    assert (pe, cl) == (SlotOutcome.SCHEDULED, SlotOutcome.SCHEDULED)


def test_a_processor_refuses_an_appointment_of_another_country_and_writes_nothing() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    appointment = new_appointment(country=Country.CL)

    with pytest.raises(WrongCountry, match="processor for PE received an appointment for CL"):
        services.schedule_in_country(appointment, Country.PE, store, events)

    assert store.rows == {}
    assert events.events == []


def settled_event(
    appointment: Appointment, status: AppointmentStatus, reason: str | None = None
) -> AppointmentSettled:
    return AppointmentSettled(
        appointment.appointment_id,
        appointment.insured_id,
        appointment.schedule_id,
        appointment.country,
        status,
        T0,
        reason,
    )


def test_the_callback_settles_a_pending_appointment_once_and_status_only_moves_forward() -> None:
    repository = InMemoryAppointmentRepository()
    appointment = services.request_appointment(
        request(), repository, InMemoryRequestPublisher(), clock=lambda: T0
    ).appointment
    later = T0 + timedelta(seconds=2)

    completed = settled_event(appointment, AppointmentStatus.COMPLETED)
    assert services.settle_appointment(completed, repository, clock=lambda: later) is True
    assert services.settle_appointment(completed, repository, clock=lambda: later) is False
    late_rejection = settled_event(appointment, AppointmentStatus.REJECTED, "too late")
    assert services.settle_appointment(late_rejection, repository) is False

    [stored] = repository.list_for_insured("PE001").items
    assert (stored.status, stored.rejection_reason) == (AppointmentStatus.COMPLETED, None)
    assert (stored.created_at, stored.updated_at) == (T0, later)


def test_a_rejection_is_recorded_with_its_reason() -> None:
    repository = InMemoryAppointmentRepository()
    appointment = services.request_appointment(request(), repository, InMemoryRequestPublisher()).appointment

    services.settle_appointment(settled_event(appointment, AppointmentStatus.REJECTED, "taken"), repository)

    [stored] = repository.list_for_insured("PE001").items
    assert (stored.status, stored.rejection_reason) == (AppointmentStatus.REJECTED, "taken")


def test_an_appointment_never_goes_back_to_pending_nor_leaves_a_final_status() -> None:
    appointment = new_appointment()

    with pytest.raises(StatusMovesForwardOnly):
        settled_event(appointment, AppointmentStatus.PENDING).status_change(T0)
    with pytest.raises(StatusMovesForwardOnly):
        StatusChange("PE001", "01A", AppointmentStatus.REJECTED, T0, expected=AppointmentStatus.COMPLETED)
    assert [s for s in AppointmentStatus if AppointmentStatus.PENDING.can_become(s)] == [
        AppointmentStatus.COMPLETED,
        AppointmentStatus.REJECTED,
    ]


def test_settling_an_unknown_appointment_is_an_error_not_a_silent_success() -> None:
    with pytest.raises(AppointmentNotFound):
        services.settle_appointment(
            settled_event(new_appointment(), AppointmentStatus.COMPLETED), InMemoryAppointmentRepository()
        )


def test_the_correlation_id_goes_from_the_request_to_the_processors_event() -> None:
    events = InMemoryEventPublisher()
    appointment = services.request_appointment(
        AppointmentRequest("PE001", 3, Country.PE, correlation_id="req-7"),
        InMemoryAppointmentRepository(),
        InMemoryRequestPublisher(),
    ).appointment

    services.schedule_in_country(appointment, Country.PE, InMemoryCountryUnitOfWork(), events)

    assert appointment.correlation_id == "req-7"
    assert events.events[0].correlation_id == "req-7"
