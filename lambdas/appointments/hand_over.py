"""The reconciler's use case: publish again the accepted appointments the flow has not settled.

The appointments table lists every appointment by country in the order it was created; the
reconciler sweeps that list from where its last run stopped and puts in the outbox those still
pending once they are old enough, then walks the outbox (adapters/dynamodb.py says how both are
stored). Nothing of this is on the hot path: the HTTP function writes and publishes, the callback
settles, and neither writes an outbox mark.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from appointments.domain import AppointmentNotFound, Country, WriteUnconfirmed
from appointments.ports import AppointmentRepository, AppointmentRequestPublisher, OutboxPage, SweepPage
from appointments.services import Clock, utc_now

# A page of the outbox is read, published and unmarked before the time left is looked at again
OUTBOX_PAGE_SIZE = 100
# What a run keeps in hand: it starts no page once fewer seconds than this remain
RESERVED_SECONDS = 10.0
# An appointment the reconciler handed over that is still not settled is handed over again after
# a wait that doubles each time (the first wait, then twice it, ...), never longer than this
LONGEST_WAIT = timedelta(days=1)
# The sweep's mark never comes nearer now than this: an appointment created before it and not yet
# in the created index (its write still under way, within the HTTP function's 10 s, or the index
# still catching up) would be passed for ever
SWEEP_MARGIN = timedelta(seconds=30)


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
    flow; one still pending then was refused by the topic, or the flow has not settled it yet (a
    processor's database down, a message in a DLQ). For each country, first the sweep: the
    appointments accepted since the country's sweep mark, read a page at a time; those still
    pending are published and put in the outbox with their hand-over recorded (those the topic
    refuses, in the outbox due at once), and the mark moves past the page, never nearer now than
    SWEEP_MARGIN (a write still under way is never passed). Then the outbox: each appointment in
    it whose next hand-over is due (`wait_before_next_hand_over`, from `first_wait`, doubling)
    is published again; the settling write takes it out, not this. The countries' pages in
    turn, so a backlog in one does not keep the other waiting; each page is published in batches.
    An appointment that fails (the topic refused it, its record was not written, its item does
    not read) is reported with why and passed over; in the sweep, a failed write stops that
    country's sweep before the page, which the next run reads again. Before each page it asks
    `seconds_left` and stops once fewer than `reserved_seconds` remain, so a run ends before its
    time does, with what it did reported. `on_page` is told each page's outcome as soon as it is
    known (the entry point logs it then, so each line carries its moment). A second publish of
    one is harmless: the processors store it once and announce the stored outcome, which the
    callback has set already.
    """
    now = clock()
    created_before = now - older_than
    handed_over: list[str] = []
    still_waiting: dict[str, str] = {}
    pages = {
        country: _country_pages(repository, publisher, country, now, created_before, first_wait, page_size)
        for country in Country
    }
    while pages:
        for country, country_pages in list(pages.items()):
            if seconds_left() < reserved_seconds:
                return HandOverReport(handed_over, still_waiting, walked=False)
            outcome = next(country_pages, None)
            if outcome is None:
                del pages[country]
                continue
            on_page(outcome)
            handed_over += outcome.handed_over
            still_waiting |= outcome.still_waiting
    return HandOverReport(handed_over, still_waiting, walked=True)


def _country_pages(
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    country: Country,
    now: datetime,
    created_before: datetime,
    first_wait: timedelta,
    page_size: int,
) -> Iterator[PageHandedOver]:
    """One country's pages, each worked when asked for: the sweep's, then the outbox's."""
    yield from _swept_pages(repository, publisher, country, now, created_before, first_wait, page_size)
    after: str | None = None
    while True:
        page = repository.not_handed_over(country, created_before, page_size, after, due_by=now)
        yield _hand_over_page(page, repository, publisher, country, now, first_wait)
        if page.after is None:
            return
        after = page.after


def _swept_pages(
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    country: Country,
    now: datetime,
    created_before: datetime,
    first_wait: timedelta,
    page_size: int,
) -> Iterator[PageHandedOver]:
    since = repository.swept_to(country)
    mark = since
    after: str | None = None
    while True:
        page = repository.accepted_between(country, since, created_before, page_size, after)
        outcome, accounted_for = _sweep_page(page, repository, publisher, country, now, first_wait)
        yield outcome
        if not accounted_for:
            return  # the mark stays before this page: the next run reads it again
        if page.reached is not None:
            reached = min(page.reached, now - SWEEP_MARGIN)
            if (mark is None or reached > mark) and repository.record_swept_to(country, reached):
                mark = reached
        if page.after is None:
            return
        after = page.after


def _sweep_page(
    page: SweepPage,
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    country: Country,
    now: datetime,
    first_wait: timedelta,
) -> tuple[PageHandedOver, bool]:
    """Hand over a sweep page's pending appointments and put them in the outbox; and whether
    each of the page is accounted for (read, and in the outbox if pending): the mark may pass it."""
    still_waiting = dict.fromkeys(page.unreadable, "its item does not read as an appointment")
    still_waiting |= dict.fromkeys(
        page.unread, "not read (the store throttled the read): read again next run"
    )
    accounted_for = not page.unread
    refused = publisher.publish_batch(page.unsettled) if page.unsettled else {}
    handed_over = []
    for appointment in page.unsettled:
        appointment_id = appointment.appointment_id
        try:
            if appointment_id in refused:
                repository.keep_for_hand_over(appointment)
                still_waiting[appointment_id] = f"{refused[appointment_id]}: kept in the outbox"
                continue
            repository.mark_handed_over(appointment, now + wait_before_next_hand_over(first_wait, 1))
        except AppointmentNotFound:
            if appointment_id in refused:
                continue  # settled meanwhile, and nothing was published
            # settled meanwhile: it stays out of the outbox, and the publish was harmless
        except WriteUnconfirmed as error:  # one failure never ends the run
            accounted_for = False
            still_waiting[appointment_id] = f"not put in the outbox (the sweep reads it again): {error}"
            continue
        handed_over.append(appointment_id)
    return PageHandedOver(country, handed_over, still_waiting), accounted_for


def _hand_over_page(
    page: OutboxPage,
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    country: Country,
    now: datetime,
    first_wait: timedelta,
) -> PageHandedOver:
    still_waiting = dict.fromkeys(page.unreadable, "its item does not read as an appointment")
    if not page.items:
        return PageHandedOver(country, [], still_waiting)
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
