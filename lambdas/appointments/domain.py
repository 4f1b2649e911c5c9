"""Appointment entities, value objects, events and errors. No I/O lives here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Country(StrEnum):
    """Countries served; each has its own queue, processor and MySQL schema."""

    PE = "PE"
    CL = "CL"


class AppointmentStatus(StrEnum):
    """Status only moves forward: pending, then completed or rejected, never back."""

    PENDING = "pending"
    COMPLETED = "completed"
    REJECTED = "rejected"


class SlotOutcome(StrEnum):
    """What a country processor did with an appointment."""

    SCHEDULED = "scheduled"  # stored: the slot was free
    REJECTED = "rejected"  # the slot was already held by another appointment
    ALREADY_HANDLED = "already handled"  # a repeated delivery: stored or rejected before


@dataclass(frozen=True)
class AppointmentRequest:
    """What an insured asks for: a schedule slot in a country."""

    insured_id: str
    schedule_id: int
    country: Country
    correlation_id: str | None = None  # the HTTP request id, carried through every hop


@dataclass(frozen=True)
class Appointment:
    appointment_id: str
    insured_id: str
    schedule_id: int
    country: Country
    status: AppointmentStatus
    created_at: datetime
    updated_at: datetime
    rejection_reason: str | None = None
    correlation_id: str | None = None

    @classmethod
    def pending(cls, appointment_id: str, request: AppointmentRequest, now: datetime) -> Appointment:
        return cls(
            appointment_id=appointment_id,
            insured_id=request.insured_id,
            schedule_id=request.schedule_id,
            country=request.country,
            status=AppointmentStatus.PENDING,
            created_at=now,
            updated_at=now,
            correlation_id=request.correlation_id,
        )

    def settled(self, status: AppointmentStatus, now: datetime, reason: str | None = None) -> Appointment:
        if self.status is not AppointmentStatus.PENDING or status is AppointmentStatus.PENDING:
            raise StatusMovesForwardOnly(self.status, status)
        return dataclasses.replace(self, status=status, updated_at=now, rejection_reason=reason)


@dataclass(frozen=True)
class AppointmentSettled:
    """Emitted by a country processor: the appointment was scheduled (stored in its MySQL schema)
    or rejected (its slot was taken). `reason` is set only for a rejection."""

    appointment_id: str
    insured_id: str
    schedule_id: int
    country: Country
    status: AppointmentStatus
    settled_at: datetime
    reason: str | None = None
    correlation_id: str | None = None


class AppointmentError(Exception):
    """Base of the errors the domain raises."""


class AppointmentNotFound(AppointmentError):
    def __init__(self, insured_id: str, appointment_id: str) -> None:
        super().__init__(f"appointment {appointment_id} of insured {insured_id} does not exist")
        self.insured_id = insured_id
        self.appointment_id = appointment_id


class StatusMovesForwardOnly(AppointmentError):
    def __init__(self, current: AppointmentStatus, wanted: AppointmentStatus) -> None:
        super().__init__(f"an appointment cannot go from {current} to {wanted}")


class WrongCountry(AppointmentError):
    """A processor received an appointment of another country: a routing fault, never retried into MySQL."""

    def __init__(self, expected: Country, received: Country) -> None:
        super().__init__(f"processor for {expected} received an appointment for {received}")
        self.expected = expected
        self.received = received
