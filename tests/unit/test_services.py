from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest

from appointments import services
from appointments.domain import (
    AppointmentNotFound,
    AppointmentRequest,
    AppointmentStatus,
    Country,
    WrongCountry,
)
from tests.unit.fakes import (
    InMemoryAppointmentRepository,
    InMemoryCountryStore,
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

    appointment = services.request_appointment(request(), repository, publisher, clock=ticking_clock())

    assert appointment.status is AppointmentStatus.PENDING
    assert appointment.created_at == T0
    assert repository.list_for_insured("PE001") == [appointment]
    assert publisher.published == [appointment]


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
        )
        for insured in ("PE001", "CL001", "PE001")
    ]

    listed = services.list_appointments("PE001", repository)

    assert [a.appointment_id for a in listed] == [made[2].appointment_id, made[0].appointment_id]
    assert services.list_appointments("NOBODY", repository) == []


def test_the_processor_stores_the_appointment_and_announces_it() -> None:
    store, events = InMemoryCountryStore(), InMemoryEventPublisher()
    appointment = services.request_appointment(
        request(country=Country.CL), InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    )

    event = services.schedule_in_country(appointment, Country.CL, store, events, clock=lambda: T0)

    assert store.rows == {appointment.appointment_id: appointment}
    assert events.events == [event]
    assert (event.appointment_id, event.insured_id, event.country, event.scheduled_at) == (
        appointment.appointment_id,
        "PE001",
        Country.CL,
        T0,
    )


def test_a_repeated_delivery_writes_one_row_but_announces_again_so_a_lost_event_is_recovered() -> None:
    store, events = InMemoryCountryStore(), InMemoryEventPublisher()
    appointment = services.request_appointment(
        request(), InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    )

    services.schedule_in_country(appointment, Country.PE, store, events)
    services.schedule_in_country(appointment, Country.PE, store, events)

    assert len(store.rows) == 1
    assert len(events.events) == 2


def test_a_processor_refuses_an_appointment_of_another_country_and_writes_nothing() -> None:
    store, events = InMemoryCountryStore(), InMemoryEventPublisher()
    appointment = services.request_appointment(
        request(country=Country.CL), InMemoryAppointmentRepository(), InMemoryRequestPublisher()
    )

    with pytest.raises(WrongCountry, match="processor for PE received an appointment for CL"):
        services.schedule_in_country(appointment, Country.PE, store, events)

    assert store.rows == {}
    assert events.events == []


def test_the_callback_completes_a_pending_appointment_once() -> None:
    repository, store, events = (
        InMemoryAppointmentRepository(),
        InMemoryCountryStore(),
        InMemoryEventPublisher(),
    )
    appointment = services.request_appointment(
        request(), repository, InMemoryRequestPublisher(), clock=lambda: T0
    )
    event = services.schedule_in_country(appointment, Country.PE, store, events)
    later = T0 + timedelta(seconds=2)

    assert services.complete_appointment(event, repository, clock=lambda: later) is True
    assert services.complete_appointment(event, repository, clock=lambda: later) is False

    [stored] = repository.list_for_insured("PE001")
    assert stored.status is AppointmentStatus.COMPLETED
    assert (stored.created_at, stored.updated_at) == (T0, later)


def test_completing_an_unknown_appointment_is_an_error_not_a_silent_success() -> None:
    repository = InMemoryAppointmentRepository()
    other_repository = InMemoryAppointmentRepository()
    appointment = services.request_appointment(request(), other_repository, InMemoryRequestPublisher())
    event = services.schedule_in_country(
        appointment, Country.PE, InMemoryCountryStore(), InMemoryEventPublisher()
    )

    with pytest.raises(AppointmentNotFound):
        services.complete_appointment(event, repository)
