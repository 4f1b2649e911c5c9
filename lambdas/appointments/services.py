"""Use cases. Each is a function that receives the ports it needs; the rules read here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ulid import ULID

from appointments.domain import (
    AlreadyStored,
    Appointment,
    AppointmentRequest,
    AppointmentSettled,
    Country,
    PublishFailed,
    SlotOutcome,
    SlotTaken,
    StatusChanged,
    WrongCountry,
)
from appointments.ports import (
    AppointmentPage,
    AppointmentRepository,
    AppointmentRequestPublisher,
    CountryUnitOfWork,
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
