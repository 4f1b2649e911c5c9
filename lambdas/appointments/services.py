"""Use cases. Each is a function that receives the ports it needs; the rules read here."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ulid import ULID

from appointments.domain import (
    AlreadyStored,
    Appointment,
    AppointmentNotFound,
    AppointmentRequest,
    AppointmentSettled,
    Country,
    PublishFailed,
    SlotOutcome,
    SlotTaken,
    StatusChanged,
    WriteUnconfirmed,
    WrongCountry,
)
from appointments.ports import (
    AppointmentPage,
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryUnitOfWork,
    OutboxPage,
    SettledEventPublisher,
)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_appointment_id() -> str:
    """A ULID: unique, and sorting by it sorts by creation time."""
    return str(ULID())


@dataclass(frozen=True)
class Accepted:
    appointment: Appointment
    handed_over: bool  # False: the topic refused it; the reconciler hands it over later


def request_appointment(
    request: AppointmentRequest,
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    clock: Clock = utc_now,
    new_id: Callable[[], str] = new_appointment_id,
) -> Accepted:
    """Store the appointment as pending, then hand it to its country's processor.

    The stored appointment is the outbox: it keeps its mark until its status is settled (the
    callback's write removes it), so the request makes one write and one publish. When the topic
    refuses, the request is still accepted (it is stored), and `hand_over_unpublished` publishes
    it once the topic works again. A store that fails raises,
    and then nothing was accepted; one whose answer was lost raises WriteUnconfirmed, holding the
    appointment, which `accept_again` stores for certain.
    """
    return accept_again(Appointment.pending(new_id(), request, clock()), repository, publisher)


def accept_again(
    appointment: Appointment, repository: AppointmentRepository, publisher: AppointmentRequestPublisher
) -> Accepted:
    """Store this very appointment (a write made before is recognised, not doubled), then hand
    it over. Once it is stored nothing fails the request: what the topic did not take, the
    reconciler hands over."""
    repository.add(appointment)
    return Accepted(appointment, handed_over=_hand_over(appointment, repository, publisher))


def _hand_over(
    appointment: Appointment, repository: AppointmentRepository, publisher: AppointmentRequestPublisher
) -> bool:
    try:
        publisher.publish(appointment)
    except PublishFailed:
        return False
    # The mark stays until the callback settles the appointment; should that take longer than the
    # reconciler waits, its publish of it again is harmless.
    return True


# A page of the outbox is read, published and unmarked before the time left is looked at again
OUTBOX_PAGE_SIZE = 100
# What a run keeps in hand: it starts no page once fewer seconds than this remain
RESERVED_SECONDS = 10.0
# An appointment the reconciler handed over that is still not settled is handed over again after
# a wait that doubles each time (the first wait, then twice it, ...), never longer than this
LONGEST_WAIT = timedelta(days=1)


def wait_before_next_hand_over(first_wait: timedelta, hand_overs: int) -> timedelta:
    """After the reconciler's `hand_overs`-th hand-over of one appointment (1 for the first), how
    long it waits before the next: `first_wait` doubled each time, so a long outage downstream
    costs a few publishes per appointment, not one a minute."""
    return min(first_wait * (1 << min(hand_overs, 20)), LONGEST_WAIT)


@dataclass(frozen=True)
class PageHandedOver:
    """What became of one page of a country's outbox."""

    country: Country
    handed_over: list[str]
    still_waiting: dict[str, str]  # appointment id -> why it keeps its mark (the next run tries again)


@dataclass(frozen=True)
class HandOverReport:
    handed_over: list[str]
    still_waiting: dict[str, str]  # appointment id -> why it keeps its mark (the next run tries again)
    walked: bool  # False: the run stopped for time before it had walked every country's outbox


def hand_over_unpublished(
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    older_than: timedelta,
    first_wait: timedelta = timedelta(minutes=1),
    seconds_left: Callable[[], float] = lambda: math.inf,
    clock: Clock = utc_now,
    page_size: int = OUTBOX_PAGE_SIZE,
    reserved_seconds: float = RESERVED_SECONDS,
    on_page: Callable[[PageHandedOver], None] = lambda page: None,
) -> HandOverReport:
    """Publish again the accepted appointments that are not settled yet.

    Only those older than `older_than`, so an appointment still on its way is left to its own
    flow; an appointment whose mark stays is one the topic refused, or one the flow has not
    settled yet (a processor's database down, a message in a DLQ). Each hand-over is recorded on
    the appointment, and the next comes only after `wait_before_next_hand_over` (from
    `first_wait`, doubling): the mark itself is removed by the settling write, not here. A page of the outbox at a time, the countries' pages in turn, so a backlog in one
    country does not keep the other waiting; each page is published in batches. An appointment
    that fails (the topic refused it, its mark was not removed, its item does not read) is
    reported with why and passed over: it keeps its mark, and is due at the next run. Before each page it
    asks `seconds_left` and stops once fewer than `reserved_seconds` remain, so a run ends before
    its time does, with what it did reported. `on_page` is told each page's outcome as soon as
    it is known (the entry point logs it then, so each line carries its moment). A second
    publish of one is harmless: the processors store it once and announce the stored outcome,
    which the callback has set already.
    """
    now = clock()
    created_before = now - older_than
    handed_over: list[str] = []
    still_waiting: dict[str, str] = {}
    # The countries whose outbox is still to walk, each with where its next page starts
    next_page: dict[Country, str | None] = {country: None for country in Country}
    while next_page:
        for country, after in list(next_page.items()):
            if seconds_left() < reserved_seconds:
                return HandOverReport(handed_over, still_waiting, walked=False)
            page = repository.not_handed_over(country, created_before, page_size, after, due_by=now)
            outcome = _hand_over_page(page, repository, publisher, country, now, first_wait)
            on_page(outcome)
            handed_over += outcome.handed_over
            still_waiting |= outcome.still_waiting
            if page.after is None:
                del next_page[country]
            else:
                next_page[country] = page.after
    return HandOverReport(handed_over, still_waiting, walked=True)


def _hand_over_page(
    page: OutboxPage,
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    country: Country,
    now: datetime,
    first_wait: timedelta,
) -> PageHandedOver:
    still_waiting = dict.fromkeys(page.unreadable, "its item does not read as an appointment")
    refused = publisher.publish_batch(page.items)
    still_waiting |= refused
    handed_over = []
    for appointment in page.items:
        if appointment.appointment_id in refused:
            continue
        made = page.hand_overs.get(appointment.appointment_id, 0) + 1
        try:
            repository.mark_handed_over(appointment, now + wait_before_next_hand_over(first_wait, made))
        except AppointmentNotFound:
            pass  # settled meanwhile: it has left the outbox, and the publish was harmless
        except WriteUnconfirmed as error:  # one failure never ends the run
            still_waiting[appointment.appointment_id] = (
                f"published, but its next hand-over was not recorded (due again at once): {error}"
            )
            continue
        handed_over.append(appointment.appointment_id)
    return PageHandedOver(country, handed_over, still_waiting)


def list_appointments(
    insured_id: str, repository: AppointmentRepository, limit: int, after: str | None = None
) -> AppointmentPage:
    """A page of the insured's appointments, newest first; `after` is the previous page's."""
    return repository.list_for_insured(insured_id, limit, after)


@dataclass(frozen=True)
class Booking:
    """What a country processor did with one delivery of an appointment."""

    outcome: SlotOutcome
    stored_before: bool  # a repeated delivery: the outcome an earlier one committed, announced again


def schedule_in_country(
    appointment: Appointment,
    country: Country,
    uow: CountryUnitOfWork,
    events: SettledEventPublisher,
    clock: Clock = utc_now,
) -> Booking:
    """Hold the appointment's slot in the country's database, commit, then announce the outcome.

    The first appointment that asks for a slot holds it; a later one is rejected with a reason.
    Only what is committed is announced: a commit that fails (or whose answer is lost) announces
    nothing, and the retry finds either nothing stored, and decides again, or the outcome the
    commit kept. A repeated delivery announces that stored outcome again, so a publish that failed
    after the commit is made good by the retry; the callback's compare-and-set drops the repeats.
    """
    if appointment.country != country:
        raise WrongCountry(expected=country, received=appointment.country)
    with uow:
        booking = _hold_slot(appointment, uow)
        if not booking.stored_before:
            uow.commit()
    events.publish(appointment.outcome_event(booking.outcome, clock()))
    return booking


def _hold_slot(appointment: Appointment, uow: CountryUnitOfWork) -> Booking:
    """The slot's outcome for this appointment, written in the open transaction, or the one an
    earlier delivery stored (its row, or its rejection)."""
    try:
        uow.add_appointment(appointment)
        return Booking(SlotOutcome.SCHEDULED, stored_before=False)
    except AlreadyStored:
        return Booking(SlotOutcome.SCHEDULED, stored_before=True)
    except SlotTaken:
        pass
    try:
        uow.add_rejection(appointment)
        return Booking(SlotOutcome.REJECTED, stored_before=False)
    except AlreadyStored:
        return Booking(SlotOutcome.REJECTED, stored_before=True)


def settle_appointment(
    event: AppointmentSettled,
    repository: AppointmentRepository,
    clock: Clock = utc_now,
) -> bool:
    """Record the processor's outcome on the appointment; False when it was settled already (a
    repeated event). Only a pending appointment is settled: status only moves forward."""
    try:
        repository.change_status(event.status_change(clock()))
    except StatusChanged:
        return False  # settled before: a repeated or late event
    return True
