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
    PENDING = "pending"
    COMPLETED = "completed"


@dataclass(frozen=True)
class AppointmentRequest:
    """What an insured asks for: a schedule slot in a country."""

    insured_id: str
    schedule_id: int
    country: Country


@dataclass(frozen=True)
class Appointment:
    appointment_id: str
    insured_id: str
    schedule_id: int
    country: Country
    status: AppointmentStatus
    created_at: datetime
    updated_at: datetime

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
        )

    def completed(self, now: datetime) -> Appointment:
        return dataclasses.replace(self, status=AppointmentStatus.COMPLETED, updated_at=now)


@dataclass(frozen=True)
class AppointmentScheduled:
    """Emitted by a country processor once the appointment is stored in its MySQL schema."""

    appointment_id: str
    insured_id: str
    schedule_id: int
    country: Country
    scheduled_at: datetime


class AppointmentError(Exception):
    """Base of the errors the domain raises."""


class AppointmentNotFound(AppointmentError):
    def __init__(self, insured_id: str, appointment_id: str) -> None:
        super().__init__(f"appointment {appointment_id} of insured {insured_id} does not exist")
        self.insured_id = insured_id
        self.appointment_id = appointment_id


class WrongCountry(AppointmentError):
    """A processor received an appointment of another country: a routing fault, never retried into MySQL."""

    def __init__(self, expected: Country, received: Country) -> None:
        super().__init__(f"processor for {expected} received an appointment for {received}")
        self.expected = expected
        self.received = received
