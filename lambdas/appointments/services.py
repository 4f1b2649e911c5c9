"""Use cases. Each is a function that receives the ports it needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ulid import ULID

from appointments.domain import (
    Appointment,
    AppointmentRequest,
    AppointmentScheduled,
    Country,
    WrongCountry,
)
from appointments.ports import (
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryAppointmentStore,
    ScheduledEventPublisher,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_appointment_id() -> str:
    """A ULID: unique, and sorting by it sorts by creation time."""
    return str(ULID())


def request_appointment(
    request: AppointmentRequest,
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = new_appointment_id,
) -> Appointment:
    """Store the appointment as pending, then hand it to its country's processor."""
    appointment = Appointment.pending(new_id(), request, clock())
    repository.add(appointment)
    publisher.publish(appointment)
    return appointment


def list_appointments(insured_id: str, repository: AppointmentRepository) -> list[Appointment]:
    return repository.list_for_insured(insured_id)


def schedule_in_country(
    appointment: Appointment,
    country: Country,
    store: CountryAppointmentStore,
    events: ScheduledEventPublisher,
    clock: Clock = utc_now,
) -> AppointmentScheduled:
    """Write the appointment to the country's database and announce it.

    The event is published even when the row was already there: a retry after a
    failed publish must still reach the callback.
    """
    if appointment.country != country:
        raise WrongCountry(expected=country, received=appointment.country)
    store.save(appointment)
    event = AppointmentScheduled(
        appointment_id=appointment.appointment_id,
        insured_id=appointment.insured_id,
        schedule_id=appointment.schedule_id,
        country=appointment.country,
        scheduled_at=clock(),
    )
    events.publish(event)
    return event


def complete_appointment(
    event: AppointmentScheduled,
    repository: AppointmentRepository,
    clock: Clock = utc_now,
) -> bool:
    """Mark the scheduled appointment completed; False when it already was."""
    return repository.mark_completed(event.insured_id, event.appointment_id, clock())
