"""The appointments tests make for themselves, rather than through the API: one builder."""

from __future__ import annotations

from datetime import UTC, datetime

from appointments.domain import Appointment, AppointmentRequest, Country
from appointments.services import new_appointment_id
from tests.support.random_refs import random_insured_id, random_schedule_id

CREATED = datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC)  # whole milliseconds, as MySQL keeps them


def appointment(
    insured: str | None = None,
    *,
    schedule: int | None = None,
    country: Country = Country.PE,
    created: datetime = CREATED,
    appointment_id: str | None = None,
    correlation_id: str | None = None,
) -> Appointment:
    """A pending appointment, as POST makes it: a new id, and a slot no run holds (MySQL keeps each
    slot for good), unless given; a random insured unless given."""
    request = AppointmentRequest(
        insured if insured is not None else random_insured_id(),
        random_schedule_id() if schedule is None else schedule,
        country,
        correlation_id,
    )
    return Appointment.pending(appointment_id or new_appointment_id(), request, created)
