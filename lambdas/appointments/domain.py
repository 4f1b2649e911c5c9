"""Appointment entities, value objects, events, the rules between them, and the facts adapters
report. No I/O lives here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Country(StrEnum):
    """Countries served; each has its own queue, processor and MySQL schema. The one list of them:
    the kit, the tests and the benchmark all read it from here."""

    PE = "PE"
    CL = "CL"


class AppointmentStatus(StrEnum):
    """Status only moves forward: pending, then completed or rejected, never back."""

    PENDING = "pending"
    COMPLETED = "completed"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self is not AppointmentStatus.PENDING

    def can_become(self, status: AppointmentStatus) -> bool:
        return self is AppointmentStatus.PENDING and status.is_final


class SlotOutcome(StrEnum):
    """What a country processor did with an appointment."""

    SCHEDULED = "scheduled"  # stored: the slot was free
    REJECTED = "rejected"  # the slot was already held by another appointment


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

    def outcome_event(self, outcome: SlotOutcome, now: datetime) -> AppointmentSettled:
        """What its country processor announces: scheduled, or rejected because the slot is taken."""
        taken = outcome is SlotOutcome.REJECTED
        return AppointmentSettled(
            appointment_id=self.appointment_id,
            insured_id=self.insured_id,
            schedule_id=self.schedule_id,
            country=self.country,
            status=AppointmentStatus.REJECTED if taken else AppointmentStatus.COMPLETED,
            settled_at=now,
            reason=f"schedule {self.schedule_id} in {self.country} is already taken" if taken else None,
            correlation_id=self.correlation_id,
        )


@dataclass(frozen=True)
class StatusChange:
    """A move of one appointment's status. Status only moves forward: from pending to completed
    or rejected, never back; a change that breaks this cannot be made."""

    insured_id: str
    appointment_id: str
    status: AppointmentStatus
    at: datetime
    reason: str | None = None
    expected: AppointmentStatus = AppointmentStatus.PENDING

    def __post_init__(self) -> None:
        if not self.expected.can_become(self.status):
            raise StatusMovesForwardOnly(self.expected, self.status)


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

    def status_change(self, now: datetime) -> StatusChange:
        """The change the callback makes: the pending appointment takes this outcome."""
        return StatusChange(self.insured_id, self.appointment_id, self.status, now, self.reason)


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
        self.current = current
        self.wanted = wanted


class WrongCountry(AppointmentError):
    """A processor received an appointment of another country: a routing fault, never retried into MySQL."""

    def __init__(self, expected: Country, received: Country) -> None:
        super().__init__(f"processor for {expected} received an appointment for {received}")
        self.expected = expected
        self.received = received


# Facts an adapter reports; the use cases decide what follows from them.


class AlreadyStored(AppointmentError):
    """This appointment (its id) is already in the store: a repeated delivery."""

    def __init__(self, appointment_id: str) -> None:
        super().__init__(f"appointment {appointment_id} is stored already")
        self.appointment_id = appointment_id


class SlotTaken(AppointmentError):
    """Another appointment already holds this schedule slot in the country."""

    def __init__(self, country: Country, schedule_id: int) -> None:
        super().__init__(f"schedule {schedule_id} in {country} is held by another appointment")
        self.country = country
        self.schedule_id = schedule_id


class StatusChanged(AppointmentError):
    """The stored status was not the one expected: someone moved it first."""

    def __init__(self, appointment_id: str, expected: AppointmentStatus, current: AppointmentStatus) -> None:
        super().__init__(f"appointment {appointment_id} is {current}, not {expected}")
        self.appointment_id = appointment_id
        self.expected = expected
        self.current = current


class WriteUnconfirmed(AppointmentError):
    """A write whose answer was lost (a timeout, an error of the store's own): it may or may not
    have been made. Writing the same appointment again settles it: the writes are conditional."""

    def __init__(self, appointment: Appointment) -> None:
        super().__init__(f"appointment {appointment.appointment_id}: the store did not confirm the write")
        self.appointment = appointment


class PublishFailed(AppointmentError):
    """A message or event could not be handed to the topic or the bus."""


class StoreUnavailable(AppointmentError):
    """The country database could not be reached or refused the login; its settings are read
    again on the next attempt."""
