"""The boundaries the use cases talk through. Each has a real adapter and an in-memory fake."""

from __future__ import annotations

import abc
from datetime import datetime

from appointments.domain import Appointment, AppointmentScheduled


class AppointmentRepository(abc.ABC):
    """Where appointments and their status live (DynamoDB)."""

    @abc.abstractmethod
    def add(self, appointment: Appointment) -> None:
        """Store a new appointment; an existing id is never overwritten."""

    @abc.abstractmethod
    def list_for_insured(self, insured_id: str) -> list[Appointment]:
        """The insured's appointments, newest first."""

    @abc.abstractmethod
    def mark_completed(self, insured_id: str, appointment_id: str, now: datetime) -> bool:
        """Move a pending appointment to completed.

        Returns False when it was no longer pending (a repeated delivery); raises
        AppointmentNotFound when it does not exist.
        """


class AppointmentRequestPublisher(abc.ABC):
    """Announces a new appointment to the country processors (SNS)."""

    @abc.abstractmethod
    def publish(self, appointment: Appointment) -> None: ...


class CountryAppointmentStore(abc.ABC):
    """A country's own appointments database (MySQL schema)."""

    @abc.abstractmethod
    def save(self, appointment: Appointment) -> bool:
        """Insert the appointment; returns False when it was already there (a repeated delivery)."""


class ScheduledEventPublisher(abc.ABC):
    """Tells the rest of the system that an appointment was scheduled (EventBridge)."""

    @abc.abstractmethod
    def publish(self, event: AppointmentScheduled) -> None: ...
