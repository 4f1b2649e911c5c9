"""In-memory implementations of the ports, for unit tests. They keep the real adapters' rules."""

from __future__ import annotations

from datetime import datetime

from appointments.domain import (
    Appointment,
    AppointmentNotFound,
    AppointmentScheduled,
    AppointmentStatus,
)
from appointments.ports import (
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryAppointmentStore,
    ScheduledEventPublisher,
)


class InMemoryAppointmentRepository(AppointmentRepository):
    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Appointment] = {}

    def add(self, appointment: Appointment) -> None:
        key = (appointment.insured_id, appointment.appointment_id)
        if key in self.items:
            raise ValueError(f"appointment {key} already exists")
        self.items[key] = appointment

    def list_for_insured(self, insured_id: str) -> list[Appointment]:
        mine = [a for (insured, _), a in self.items.items() if insured == insured_id]
        return sorted(mine, key=lambda a: a.appointment_id, reverse=True)

    def mark_completed(self, insured_id: str, appointment_id: str, now: datetime) -> bool:
        current = self.items.get((insured_id, appointment_id))
        if current is None:
            raise AppointmentNotFound(insured_id, appointment_id)
        if current.status is not AppointmentStatus.PENDING:
            return False
        self.items[(insured_id, appointment_id)] = current.completed(now)
        return True


class InMemoryRequestPublisher(AppointmentRequestPublisher):
    def __init__(self) -> None:
        self.published: list[Appointment] = []

    def publish(self, appointment: Appointment) -> None:
        self.published.append(appointment)


class InMemoryCountryStore(CountryAppointmentStore):
    def __init__(self) -> None:
        self.rows: dict[str, Appointment] = {}

    def save(self, appointment: Appointment) -> bool:
        if appointment.appointment_id in self.rows:
            return False
        self.rows[appointment.appointment_id] = appointment
        return True


class InMemoryEventPublisher(ScheduledEventPublisher):
    def __init__(self) -> None:
        self.events: list[AppointmentScheduled] = []

    def publish(self, event: AppointmentScheduled) -> None:
        self.events.append(event)
