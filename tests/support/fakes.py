"""In-memory implementations of the ports, for the unit tests and the port contract suite. They
store and return data and report the same facts as the real adapters
(tests/integration/test_port_contracts.py runs one suite against both); they hold no business rule."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import DataRecord

from appointments.domain import (
    AlreadyStored,
    Appointment,
    AppointmentNotFound,
    AppointmentSettled,
    AppointmentStatus,
    Country,
    PublishFailed,
    SlotTaken,
    StatusChange,
    StatusChanged,
    StoreUnavailable,
    WriteUnconfirmed,
)
from appointments.ports import (
    AppointmentPage,
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryUnitOfWork,
    OutboxPage,
    SettledEventPublisher,
    SweepPage,
)


def _identity(appointment: Appointment) -> tuple[object, ...]:
    """What an appointment is, as opposed to where it stands (status, update time, reason)."""
    a = appointment
    return (a.insured_id, a.appointment_id, a.schedule_id, a.country, a.created_at, a.correlation_id)


class InMemoryAppointmentRepository(AppointmentRepository):
    """Items by key, as the table holds them, with the outbox kept beside them (the keys the
    sweep put in it, taken out by the settling status change), the reconciler's hand-overs of
    each (when the next is due, how many were made) and each country's sweep mark.

    `answers_lost` writes whose answer is lost: the next that many adds store (or, with
    `lost_before_writing`, do not) and raise WriteUnconfirmed; `marks_failing` writes into the
    outbox (a hand-over's record, or a refused one kept) fail; `reads_throttled` sweep pages
    leave their items unread; `sweep_records_failing` moves of a sweep mark are not confirmed."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Appointment] = {}
        self.not_handed: set[tuple[str, str]] = set()
        self.answers_lost = 0
        self.lost_before_writing = False
        self.marks_failing = 0
        self.due: dict[tuple[str, str], datetime] = {}  # no hand-over before this moment
        self.hand_overs: dict[tuple[str, str], int] = {}
        self.unreadable: set[tuple[str, str]] = set()  # items stored in a shape no reader knows
        self.outbox_pages_read: list[Country] = []
        self.swept: dict[Country, datetime] = {}
        self.reads_throttled = 0
        self.sweep_records_failing = 0

    def add(self, appointment: Appointment) -> None:
        key = (appointment.insured_id, appointment.appointment_id)
        if self.answers_lost:
            self.answers_lost -= 1
            if not self.lost_before_writing and key not in self.items:
                self.items[key] = appointment
            raise WriteUnconfirmed(appointment)
        if key in self.items:
            if _identity(self.items[key]) == _identity(appointment):
                return  # this very appointment, stored before
            raise AlreadyStored(appointment.appointment_id)
        self.items[key] = appointment

    def list_for_insured(
        self, insured_id: str, limit: int = 100, after: str | None = None
    ) -> AppointmentPage:
        mine = sorted(
            (a for (insured, _), a in self.items.items() if insured == insured_id),
            key=lambda a: a.appointment_id,
            reverse=True,
        )
        following = [a for a in mine if after is None or a.appointment_id < after]
        page = following[:limit]
        return AppointmentPage(page, after=page[-1].appointment_id if len(following) > limit else None)

    def change_status(self, change: StatusChange) -> None:
        current = self.items.get((change.insured_id, change.appointment_id))
        if current is None:
            raise AppointmentNotFound(change.insured_id, change.appointment_id)
        if current.status is not change.expected:
            raise StatusChanged(change.appointment_id, change.expected, current.status)
        self.items[(change.insured_id, change.appointment_id)] = dataclasses.replace(
            current, status=change.status, updated_at=change.at, rejection_reason=change.reason
        )
        self.not_handed.discard((change.insured_id, change.appointment_id))

    def _position(self, key: tuple[str, str]) -> list[str]:
        """Where an item stands in the indexes' order (createdAt, then the table's key); a page
        starts after a position."""
        return [self.items[key].created_at.isoformat(), *key]

    def mark_handed_over(self, appointment: Appointment, again_after: datetime) -> None:
        key = self._into_outbox(appointment)
        self.due[key] = again_after
        self.hand_overs[key] = self.hand_overs.get(key, 0) + 1

    def keep_for_hand_over(self, appointment: Appointment) -> None:
        self._into_outbox(appointment)

    def _into_outbox(self, appointment: Appointment) -> tuple[str, str]:
        key = (appointment.insured_id, appointment.appointment_id)
        if self.marks_failing:
            self.marks_failing -= 1
            raise WriteUnconfirmed(appointment)
        if key not in self.items or self.items[key].status is not AppointmentStatus.PENDING:
            raise AppointmentNotFound(*key)
        self.not_handed.add(key)
        return key

    def accepted_between(
        self,
        country: Country,
        since: datetime | None,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
    ) -> SweepPage:
        listed = sorted(
            (
                key
                for key, a in self.items.items()
                if a.country is country
                and (since is None or a.created_at >= since)
                and a.created_at < created_before
            ),
            key=self._position,
        )
        following = [key for key in listed if after is None or self._position(key) > json.loads(after)]
        page = following[:limit]
        next_page = json.dumps(self._position(page[-1])) if len(following) > limit else None
        if not page:
            return SweepPage([], after=next_page)
        reached = self.items[page[-1]].created_at
        if self.reads_throttled:
            self.reads_throttled -= 1
            return SweepPage([], unread=[key[1] for key in page], reached=reached, after=next_page)
        fresh = [key for key in page if key not in self.not_handed]
        return SweepPage(
            unsettled=[
                self.items[key]
                for key in fresh
                if key not in self.unreadable and self.items[key].status is AppointmentStatus.PENDING
            ],
            unreadable=[key[1] for key in fresh if key in self.unreadable],
            reached=reached,
            after=next_page,
        )

    def swept_to(self, country: Country) -> datetime | None:
        return self.swept.get(country)

    def record_swept_to(self, country: Country, moment: datetime) -> bool:
        if self.sweep_records_failing:
            self.sweep_records_failing -= 1
            return False
        if country not in self.swept or self.swept[country] < moment:
            self.swept[country] = moment
        return True

    def not_handed_over(
        self,
        country: Country,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
        due_by: datetime | None = None,
    ) -> OutboxPage:
        marked = sorted(
            (
                key
                for key in self.not_handed
                if self.items[key].country is country and self.items[key].created_at < created_before
            ),
            key=self._position,
        )
        following = [key for key in marked if after is None or self._position(key) > json.loads(after)]
        page = following[:limit]  # the limit counts the items read, before the filter on `due_by`
        self.outbox_pages_read.append(country)
        shown = [key for key in page if due_by is None or key not in self.due or self.due[key] <= due_by]
        return OutboxPage(
            items=[self.items[key] for key in shown if key not in self.unreadable],
            unreadable=[key[1] for key in shown if key in self.unreadable],
            after=json.dumps(self._position(page[-1])) if len(page) == limit else None,
            hand_overs={key[1]: self.hand_overs[key] for key in shown if key in self.hand_overs},
        )


class InMemoryRequestPublisher(AppointmentRequestPublisher):
    def __init__(self) -> None:
        self.published: list[Appointment] = []
        self.batches: list[list[str]] = []  # the appointment ids of each publish_batch call
        self.refusing = False
        self.refused_ids: set[str] = set()  # appointments whose entry the topic fails, alone

    def publish(self, appointment: Appointment) -> None:
        if self.refusing or appointment.appointment_id in self.refused_ids:
            raise PublishFailed("topic unavailable")
        self.published.append(appointment)

    def publish_batch(self, appointments: Sequence[Appointment]) -> dict[str, str]:
        self.batches.append([a.appointment_id for a in appointments])
        if self.refusing:
            return {a.appointment_id: "topic unavailable" for a in appointments}
        refused = {
            a.appointment_id: "entry failed" for a in appointments if a.appointment_id in self.refused_ids
        }
        self.published += [a for a in appointments if a.appointment_id not in refused]
        return refused


class InMemoryCountryUnitOfWork(CountryUnitOfWork):
    """Two tables keyed by appointment id, and the slot key on the first, as in mysql-init/migrations/.
    Writes wait in the transaction until commit.

    `commits_lost` commits fail as a dropped connection does: the next that many raise
    StoreUnavailable, having kept the writes (`lost_after_commit`, the answer lost on its way
    back) or not (the server rolled them back)."""

    def __init__(self) -> None:
        self.rows: dict[str, Appointment] = {}
        self.rejections: dict[str, Appointment] = {}
        self._pending_rows: dict[str, Appointment] = {}
        self._pending_rejections: dict[str, Appointment] = {}
        self.commits = 0
        self.commits_lost = 0
        self.lost_after_commit = False

    def begin(self) -> None:
        self.rollback()

    def add_appointment(self, appointment: Appointment) -> None:
        rows = self.rows | self._pending_rows
        if appointment.appointment_id in rows:
            raise AlreadyStored(appointment.appointment_id)
        if any(row.schedule_id == appointment.schedule_id for row in rows.values()):
            raise SlotTaken(appointment.country, appointment.schedule_id)
        self._pending_rows[appointment.appointment_id] = appointment

    def add_rejection(self, appointment: Appointment) -> None:
        if appointment.appointment_id in self.rejections | self._pending_rejections:
            raise AlreadyStored(appointment.appointment_id)
        self._pending_rejections[appointment.appointment_id] = appointment

    def commit(self) -> None:
        if self.commits_lost and not self.lost_after_commit:
            self.commits_lost -= 1
            self.rollback()
            raise StoreUnavailable("connection lost during COMMIT; rolled back")
        self.rows |= self._pending_rows
        self.rejections |= self._pending_rejections
        self.commits += 1
        self.rollback()
        if self.commits_lost:
            self.commits_lost -= 1
            raise StoreUnavailable("connection lost after COMMIT; its answer never came")

    def rollback(self) -> None:
        self._pending_rows = {}
        self._pending_rejections = {}


class InMemoryEventPublisher(SettledEventPublisher):
    def __init__(self, fail_times: int = 0) -> None:
        self.events: list[AppointmentSettled] = []
        self.fail_times = fail_times

    def publish(self, event: AppointmentSettled) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise PublishFailed("event bus unavailable")
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
