"""In-memory implementations of the ports, for unit tests. They keep the real adapters' rules."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from appointments.domain import (
    Appointment,
    AppointmentNotFound,
    AppointmentSettled,
    AppointmentStatus,
    SlotOutcome,
)
from appointments.ports import (
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryAppointmentStore,
    SettledEventPublisher,
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

    def settle(
        self,
        insured_id: str,
        appointment_id: str,
        status: AppointmentStatus,
        reason: str | None,
        now: datetime,
    ) -> bool:
        current = self.items.get((insured_id, appointment_id))
        if current is None:
            raise AppointmentNotFound(insured_id, appointment_id)
        if current.status is not AppointmentStatus.PENDING:
            return False
        self.items[(insured_id, appointment_id)] = current.settled(status, now, reason)
        return True


class InMemoryRequestPublisher(AppointmentRequestPublisher):
    def __init__(self) -> None:
        self.published: list[Appointment] = []

    def publish(self, appointment: Appointment) -> None:
        self.published.append(appointment)


class InMemoryCountryStore(CountryAppointmentStore):
    """Slots held once; nothing is kept when the announcement fails, as with the MySQL transaction."""

    def __init__(self) -> None:
        self.rows: dict[str, Appointment] = {}
        self.rejections: dict[str, Appointment] = {}

    def save(self, appointment: Appointment, announce: Callable[[SlotOutcome], None]) -> SlotOutcome:
        if appointment.appointment_id in self.rows or appointment.appointment_id in self.rejections:
            return SlotOutcome.ALREADY_HANDLED
        taken = any(row.schedule_id == appointment.schedule_id for row in self.rows.values())
        outcome = SlotOutcome.REJECTED if taken else SlotOutcome.SCHEDULED
        announce(outcome)
        (self.rejections if taken else self.rows)[appointment.appointment_id] = appointment
        return outcome


class InMemoryEventPublisher(SettledEventPublisher):
    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[AppointmentSettled] = []
        self.fail_times = fail_times

    def publish(self, event: AppointmentSettled) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("event bus unavailable")
        self.events.append(event)


class InMemoryIdempotencyStore(BasePersistenceLayer):
    """powertools' persistence port, kept in a dict: the same records DynamoDB would hold."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict[str, DataRecord] = {}

    def _get_record(self, idempotency_key: str) -> DataRecord:
        try:
            return self.records[idempotency_key]
        except KeyError:
            raise IdempotencyItemNotFoundError from None

    def _put_record(self, data_record: DataRecord) -> None:
        existing = self.records.get(data_record.idempotency_key)
        if existing is not None and not existing.is_expired:
            raise IdempotencyItemAlreadyExistsError
        self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        self.records.pop(data_record.idempotency_key, None)
