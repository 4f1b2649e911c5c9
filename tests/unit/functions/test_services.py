from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from appointments import services
from appointments.domain import (
    AlreadyStored,
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
    StoreUnavailable,
    WriteUnconfirmed,
    WrongCountry,
)
from tests.support.fakes import (
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


def test_an_appointment_on_its_way_is_listed_for_the_sweep_and_in_no_outbox() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    accepted = services.request_appointment(request(), repository, publisher, clock=lambda: T0)
    a_day_later = T0 + timedelta(days=1)

    listed = repository.accepted_between(Country.PE, None, a_day_later).unsettled
    in_outbox = repository.not_handed_over(Country.PE, created_before=a_day_later).items
    settled = services.settle_appointment(
        settled_event(accepted.appointment, AppointmentStatus.COMPLETED), repository
    )

    assert listed == [accepted.appointment]  # the sweep would find it pending
    assert in_outbox == []  # the hot path wrote no outbox mark
    assert settled
    assert repository.accepted_between(Country.PE, None, a_day_later).unsettled == []


def test_when_the_topic_refuses_the_appointment_is_still_accepted_and_waits_for_the_sweep() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    publisher.refusing = True

    accepted = services.request_appointment(request(), repository, publisher, clock=lambda: T0)

    assert not accepted.handed_over
    assert publisher.published == []
    assert repository.list_for_insured("PE001").items == [accepted.appointment]
    # pending, where the reconciler's sweep finds it
    assert repository.accepted_between(Country.PE, None, T0 + timedelta(seconds=1)).unsettled == [
        accepted.appointment
    ]


def test_a_store_whose_answer_was_lost_raises_with_the_appointment_and_publishes_nothing() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    repository.answers_lost = 1

    with pytest.raises(WriteUnconfirmed) as lost:
        services.request_appointment(request(), repository, publisher, clock=lambda: T0)

    assert publisher.published == []
    assert lost.value.appointment.insured_id == "PE001"


@pytest.mark.parametrize("written", [True, False], ids=["write-had-landed", "write-never-landed"])
def test_accepting_the_same_appointment_again_stores_it_once_and_hands_it_over(written: bool) -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    repository.answers_lost, repository.lost_before_writing = 1, not written
    with pytest.raises(WriteUnconfirmed) as lost:
        services.request_appointment(request(), repository, publisher, clock=lambda: T0)

    accepted = services.accept_again(lost.value.appointment, repository, publisher)

    assert accepted.handed_over
    assert repository.list_for_insured("PE001").items == [lost.value.appointment]
    assert publisher.published == [lost.value.appointment]


def test_another_appointment_under_a_stored_id_is_refused() -> None:
    repository, publisher = InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    first = services.request_appointment(request(), repository, publisher, new_id=lambda: "01SAME")
    with pytest.raises(AlreadyStored):
        services.request_appointment(request(schedule=2), repository, publisher, new_id=lambda: "01SAME")

    assert repository.list_for_insured("PE001").items == [first.appointment]


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

    booking = services.schedule_in_country(appointment, Country.CL, store, events, clock=lambda: T0)

    assert booking == services.Booking(SlotOutcome.SCHEDULED, stored_before=False)
    assert store.rows == {appointment.appointment_id: appointment}
    [event] = events.events
    assert (event.appointment_id, event.status, event.reason, event.settled_at) == (
        appointment.appointment_id,
        AppointmentStatus.COMPLETED,
        None,
        T0,
    )


def test_a_repeated_delivery_gives_one_row_and_announces_the_stored_outcome_again() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    appointment = new_appointment()

    first = services.schedule_in_country(appointment, Country.PE, store, events)
    again = services.schedule_in_country(appointment, Country.PE, store, events)

    assert (first, again) == (
        services.Booking(SlotOutcome.SCHEDULED, stored_before=False),
        services.Booking(SlotOutcome.SCHEDULED, stored_before=True),
    )
    assert len(store.rows) == 1
    assert store.commits == 1
    assert [(e.appointment_id, e.status) for e in events.events] == [
        (appointment.appointment_id, AppointmentStatus.COMPLETED)
    ] * 2


def test_nothing_is_announced_before_it_is_committed() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    store.commits_lost = 1  # the connection drops during COMMIT: the server rolls back

    with pytest.raises(StoreUnavailable):
        services.schedule_in_country(new_appointment(), Country.PE, store, events)

    assert (store.rows, events.events) == ({}, [])


def test_a_commit_lost_at_the_wrong_instant_never_tells_two_patients_completed_for_one_slot() -> None:
    # X's COMMIT is lost (rolled back); Y, for the same slot, commits; X's retry finds it taken.
    store, events, table = (
        InMemoryCountryUnitOfWork(),
        InMemoryEventPublisher(),
        InMemoryAppointmentRepository(),
    )
    x, y = new_appointment(schedule=4, insured="PE00X"), new_appointment(schedule=4, insured="PE00Y")
    for appointment in (x, y):
        table.add(appointment)
    store.commits_lost = 1

    with pytest.raises(StoreUnavailable):
        services.schedule_in_country(x, Country.PE, store, events)
    services.schedule_in_country(y, Country.PE, store, events)
    services.schedule_in_country(x, Country.PE, store, events)  # the redelivery
    for event in events.events:
        services.settle_appointment(event, table)

    statuses = {a.insured_id: a.status for a in table.items.values()}
    assert statuses == {"PE00X": AppointmentStatus.REJECTED, "PE00Y": AppointmentStatus.COMPLETED}
    assert (list(store.rows), list(store.rejections)) == ([y.appointment_id], [x.appointment_id])


def test_a_commit_whose_answer_was_lost_is_announced_by_the_retry_as_stored() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    store.commits_lost, store.lost_after_commit = 1, True
    appointment = new_appointment()

    with pytest.raises(StoreUnavailable):
        services.schedule_in_country(appointment, Country.PE, store, events)
    assert events.events == []
    again = services.schedule_in_country(appointment, Country.PE, store, events)

    assert again == services.Booking(SlotOutcome.SCHEDULED, stored_before=True)
    assert list(store.rows) == [appointment.appointment_id]
    assert [e.status for e in events.events] == [AppointmentStatus.COMPLETED]


def test_a_failed_announcement_keeps_the_booking_and_the_retry_announces_it() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher(fail_times=1)
    appointment = new_appointment()

    with pytest.raises(PublishFailed):
        services.schedule_in_country(appointment, Country.PE, store, events)
    assert list(store.rows) == [appointment.appointment_id]

    retried = services.schedule_in_country(appointment, Country.PE, store, events)
    assert retried == services.Booking(SlotOutcome.SCHEDULED, stored_before=True)
    assert (len(store.rows), store.commits) == (1, 1)
    assert [e.status for e in events.events] == [AppointmentStatus.COMPLETED]


def test_a_taken_slot_rejects_the_second_booking_once_with_a_reason() -> None:
    store, events = InMemoryCountryUnitOfWork(), InMemoryEventPublisher()
    first, second = new_appointment(schedule=5), new_appointment(schedule=5, insured="PE002")

    services.schedule_in_country(first, Country.PE, store, events)
    booking = services.schedule_in_country(second, Country.PE, store, events)
    again = services.schedule_in_country(second, Country.PE, store, events)

    assert (booking, again) == (
        services.Booking(SlotOutcome.REJECTED, stored_before=False),
        services.Booking(SlotOutcome.REJECTED, stored_before=True),
    )
    assert list(store.rows) == [first.appointment_id]
    assert list(store.rejections) == [second.appointment_id]
    assert [(e.appointment_id, e.status) for e in events.events] == [
        (first.appointment_id, AppointmentStatus.COMPLETED),
        (second.appointment_id, AppointmentStatus.REJECTED),
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

    assert (pe.outcome, cl.outcome) == (SlotOutcome.SCHEDULED, SlotOutcome.SCHEDULED)


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
