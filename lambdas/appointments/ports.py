"""The boundaries the use cases talk through. Each has a real adapter and an in-memory fake.

Adapters do I/O and report what happened as domain facts (AlreadyStored, SlotTaken,
StatusChanged, PublishFailed); they decide nothing. The use cases in services.py decide.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from appointments.domain import Appointment, AppointmentSettled, Country, StatusChange


class KeysUnavailable(Exception):
    """The API keys could not be read (their parameter store did not answer in time): the key
    given is neither accepted nor refused, and the request can be sent again."""


class ApiKeyCheck(abc.ABC):
    """Tells which client application an API key belongs to (the keys kept in SSM)."""

    @abc.abstractmethod
    def client(self, given: str) -> str | None:
        """The client application this key belongs to, or None for a key that is not valid.
        Raises KeysUnavailable when the keys cannot be read just now."""


@dataclass(frozen=True)
class AppointmentPage:
    """Some of an insured's appointments, newest first, and where the next page starts."""

    items: list[Appointment]
    after: str | None = None  # the appointment id the next page follows; None: there is no more


@dataclass(frozen=True)
class OutboxPage:
    """Some of a country's appointments not handed over yet, oldest first, and where the next
    page starts."""

    items: list[Appointment]
    # ids of marked items this code cannot read as appointments (a hand-edited or foreign item):
    # reported, so the walk goes past them instead of stopping on them
    unreadable: list[str] = field(default_factory=list)
    after: str | None = None  # where the next page starts, as the repository wrote it; None: no more
    # appointment id -> how many times the reconciler has handed it over already (absent: never)
    hand_overs: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SweepPage:
    """Some of a country's appointments accepted in a span of time, oldest first: of those read,
    the ones still pending and not in the outbox, and how far the page reached."""

    unsettled: list[Appointment]
    unreadable: list[str] = field(default_factory=list)  # ids of items that do not read as appointments
    reached: datetime | None = None  # when the last appointment read was created; None: none read
    after: str | None = None  # where the next page starts, as the repository wrote it; None: no more
    # ids of appointments listed but not read (the store throttled the reads): the sweep must not
    # pass them, and reads the page again at its next run
    unread: list[str] = field(default_factory=list)


class AppointmentRepository(abc.ABC):
    """Where appointments and their status live (DynamoDB). It is also the outbox, which costs
    the hot path nothing: the reconciler sweeps the accepted appointments in the order they were
    created, puts in the outbox those still pending once they are old enough, and the change of
    a status to settled takes an appointment out of it."""

    @abc.abstractmethod
    def add(self, appointment: Appointment) -> None:
        """Store a new appointment, where the reconciler's sweep will read it. An existing id is
        never overwritten: raises AlreadyStored."""

    @abc.abstractmethod
    def list_for_insured(
        self, insured_id: str, limit: int = 100, after: str | None = None
    ) -> AppointmentPage:
        """At most `limit` of the insured's appointments, newest first, starting after the
        appointment id `after` (the previous page's `after`). The page's `after` is set only when
        more appointments follow."""

    @abc.abstractmethod
    def change_status(self, change: StatusChange) -> None:
        """Write the change's status, time and reason only if the stored status is still the one
        it expects, and remove the outbox mark in the same write. Raises StatusChanged when it is
        not, AppointmentNotFound when there is no such appointment."""

    @abc.abstractmethod
    def mark_handed_over(self, appointment: Appointment, again_after: datetime) -> None:
        """Record a hand-over by the reconciler: the appointment is in the outbox (put there if it
        was not), one hand-over more, and none again before `again_after`. It stays there until
        its status is settled. Raises AppointmentNotFound when the appointment is not pending
        (gone, or settled meanwhile)."""

    @abc.abstractmethod
    def keep_for_hand_over(self, appointment: Appointment) -> None:
        """Put a pending appointment in the outbox, due at once (one the topic refused when the
        sweep found it). Raises AppointmentNotFound when it is not pending (gone, or settled)."""

    @abc.abstractmethod
    def accepted_between(
        self,
        country: Country,
        since: datetime | None,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
    ) -> SweepPage:
        """A page of the country's appointments created from `since` on (from the first, with
        None) and before `created_before`, oldest first, starting after the previous page's
        `after`. At most `limit` are read; the page holds those still pending and not in the
        outbox. An empty span (`since` not before `created_before`) is an empty page."""

    @abc.abstractmethod
    def swept_to(self, country: Country) -> datetime | None:
        """Where the country's sweep has reached: every appointment created before it has been
        read and, if it was still pending, put in the outbox. None: the sweep has not started."""

    @abc.abstractmethod
    def record_swept_to(self, country: Country, moment: datetime) -> bool:
        """Move the country's sweep to `moment` (never back). False when the store did not
        confirm it: then the next run reads the same appointments again, which is harmless."""

    @abc.abstractmethod
    def not_handed_over(
        self,
        country: Country,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
        due_by: datetime | None = None,
    ) -> OutboxPage:
        """A page of the country's appointments in the outbox (not settled) and created before
        the given moment, oldest first, starting after the previous page's `after`; with
        `due_by`, only those whose next hand-over is due by then. At most `limit` marked items
        are read for a page (those not due are read and left out). The page's `after` is None
        when no more follow."""


class AppointmentRequestPublisher(abc.ABC):
    """Announces a new appointment to the country processors (SNS)."""

    @abc.abstractmethod
    def publish(self, appointment: Appointment) -> None:
        """Raises PublishFailed when the topic did not take it."""

    @abc.abstractmethod
    def publish_batch(self, appointments: Sequence[Appointment]) -> dict[str, str]:
        """Publish several, each the message `publish` sends, in as few calls as the topic
        allows. Returns those the topic did not take, appointment id -> why; it took the others."""


class CountryUnitOfWork(abc.ABC):
    """One transaction on a country's own database (a MySQL schema): what is added is kept only
    when `commit` is called; leaving the `with` block without it rolls everything back.

        with uow:
            uow.add_appointment(appointment)
            uow.commit()
    """

    def __enter__(self) -> CountryUnitOfWork:
        self.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.rollback()  # after a commit there is nothing left to roll back

    @abc.abstractmethod
    def begin(self) -> None: ...

    @abc.abstractmethod
    def add_appointment(self, appointment: Appointment) -> None:
        """Raises AlreadyStored for an id stored before, SlotTaken when another appointment
        holds its schedule slot."""

    @abc.abstractmethod
    def add_rejection(self, appointment: Appointment) -> None:
        """Record that the appointment was refused. Raises AlreadyStored when it was before."""

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...


class SettledEventPublisher(abc.ABC):
    """Tells the rest of the system an appointment was scheduled or rejected (EventBridge)."""

    @abc.abstractmethod
    def publish(self, event: AppointmentSettled) -> None:
        """Raises PublishFailed when the bus did not take it."""
