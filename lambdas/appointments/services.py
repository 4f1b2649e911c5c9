"""Use cases. Each is a function that receives the ports it needs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from ulid import ULID

from appointments.domain import (
    Appointment,
    AppointmentRequest,
    AppointmentSettled,
    AppointmentStatus,
    Country,
    SlotOutcome,
    WrongCountry,
)
from appointments.ports import (
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryAppointmentStore,
    SettledEventPublisher,
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
    events: SettledEventPublisher,
    clock: Clock = utc_now,
) -> SlotOutcome:
    """Hold the appointment's slot in the country's database and announce the outcome.

    The slot is held by the first appointment that asks for it; a later one is rejected with a
    reason. The store commits only once the announcement is published.
    """
    if appointment.country != country:
        raise WrongCountry(expected=country, received=appointment.country)

    def announce(outcome: SlotOutcome) -> None:
        taken = outcome is SlotOutcome.REJECTED
        events.publish(
            AppointmentSettled(
                appointment_id=appointment.appointment_id,
                insured_id=appointment.insured_id,
                schedule_id=appointment.schedule_id,
                country=appointment.country,
                status=AppointmentStatus.REJECTED if taken else AppointmentStatus.COMPLETED,
                settled_at=clock(),
                reason=f"schedule {appointment.schedule_id} in {country} is already taken" if taken else None,
                correlation_id=appointment.correlation_id,
            )
        )

    return store.save(appointment, announce)


def settle_appointment(
    event: AppointmentSettled,
    repository: AppointmentRepository,
    clock: Clock = utc_now,
) -> bool:
    """Record the processor's outcome on the appointment; False when it was already settled."""
    return repository.settle(event.insured_id, event.appointment_id, event.status, event.reason, clock())
