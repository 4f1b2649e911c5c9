"""The boundaries the use cases talk through. Each has a real adapter and an in-memory fake."""

from __future__ import annotations

import abc
from collections.abc import Callable
from datetime import datetime

from appointments.domain import Appointment, AppointmentSettled, AppointmentStatus, SlotOutcome


class AppointmentRepository(abc.ABC):
    """Where appointments and their status live (DynamoDB)."""

    @abc.abstractmethod
    def add(self, appointment: Appointment) -> None:
        """Store a new appointment; an existing id is never overwritten."""

    @abc.abstractmethod
    def list_for_insured(self, insured_id: str) -> list[Appointment]:
        """The insured's appointments, newest first."""

    @abc.abstractmethod
    def settle(
        self,
        insured_id: str,
        appointment_id: str,
        status: AppointmentStatus,
        reason: str | None,
        now: datetime,
    ) -> bool:
        """Move a pending appointment to `status` (completed or rejected).

        Returns False when it was no longer pending (a repeated delivery): status only moves
        forward. Raises AppointmentNotFound when it does not exist.
        """


class AppointmentRequestPublisher(abc.ABC):
    """Announces a new appointment to the country processors (SNS)."""

    @abc.abstractmethod
    def publish(self, appointment: Appointment) -> None: ...


class CountryAppointmentStore(abc.ABC):
    """A country's own appointments database (MySQL schema), where a schedule slot is held once."""

    @abc.abstractmethod
    def save(self, appointment: Appointment, announce: Callable[[SlotOutcome], None]) -> SlotOutcome:
        """Store the appointment, or record its rejection when its slot is taken, and call
        `announce` with that outcome before committing.

        A failed announcement undoes the write, so the retry does both again; a repeated delivery
        of a committed one does neither and returns ALREADY_HANDLED. Hence one row and one event.
        """


class SettledEventPublisher(abc.ABC):
    """Tells the rest of the system an appointment was scheduled or rejected (EventBridge)."""

    @abc.abstractmethod
    def publish(self, event: AppointmentSettled) -> None: ...
