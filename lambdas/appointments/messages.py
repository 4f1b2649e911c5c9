"""The messages the functions send each other: contracts between functions deployed one at a time.

Two contracts, each with its own models, apart from the HTTP views in http/schemas.py (the HTTP answer
can grow without changing a message):
- the appointment message, published on the SNS topic and read from each country's queue;
- the `detail` of AppointmentScheduled and AppointmentRejected on the EventBridge bus, read from
  the callback queue.

Each body carries `version`, MAJOR.MINOR. A writer only adds fields within a major version
(bumping the minor); removing, renaming or changing a field's meaning is a new major version. A
reader reads the fields it knows, accepts the others and logs them once per process and field
set, and refuses a major version it does not know (UnknownMajorVersion): that record fails, is
retried (a reader deployed meanwhile may know it), then waits in its DLQ for `make redrive`. A
body without `version` was written before versions existed: 1.0.

The version is in the body, not in the detail-type: EventBridge drops an event no rule matches,
so a versioned detail-type would lose the events of a newer processor during a rolling deploy
instead of leaving them in a DLQ, and every new major would need the rule edited. In the body it
also travels with the message wherever it goes (a queue, a DLQ, `make redrive`).

docs/asyncapi.json describes these models (bootstrap/contracts/asyncapi.py, `make asyncapi`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from appointments.domain import Appointment, AppointmentSettled, AppointmentStatus, Country

logger = Logger(child=True)

MAJOR_VERSION = 1  # the major version these readers and writers speak
APPOINTMENT_MESSAGE_VERSION = "1.0"
SETTLED_DETAIL_VERSION = "1.0"
UNVERSIONED = "1.0"  # what a body without `version` is: written before versions existed
VERSION_PATTERN = rf"^{MAJOR_VERSION}\.[0-9]+$"

EVENT_SOURCE = "rimac.appointments"
# The EventBridge detail-type names the outcome; the callback maps it back to the status.
DETAIL_TYPES = {
    AppointmentStatus.COMPLETED: "AppointmentScheduled",
    AppointmentStatus.REJECTED: "AppointmentRejected",
}


class UnknownMajorVersion(ValueError):
    """A body of a major version this reader does not know: it is left for a reader that does."""

    def __init__(self, contract: str, version: object) -> None:
        super().__init__(f"{contract} version {version!r}: this reader knows major version {MAJOR_VERSION}")
        self.contract = contract
        self.version = version


def _version_field(current: str) -> Any:
    return Field(
        default=current,
        pattern=VERSION_PATTERN,
        description=(
            "MAJOR.MINOR. Within a major version writers only add fields; readers accept fields "
            "they do not know and refuse a major version they do not know. Absent: 1.0."
        ),
        examples=[current],
    )


class _Contract(BaseModel):
    # extra="allow": a newer writer's fields are accepted, and kept in model_extra to be logged.
    model_config = ConfigDict(extra="allow", frozen=True)


class AppointmentMessage(_Contract):
    """A new appointment for its country's processor: published on the SNS topic (message
    attribute `countryISO`, which the subscriptions filter on) and read from the country queue."""

    version: str = _version_field(APPOINTMENT_MESSAGE_VERSION)
    appointmentId: str = Field(description="A ULID: sorts by creation time")
    insuredId: str
    scheduleId: int = Field(description="The schedule slot, unique within a country")
    countryISO: Country
    status: AppointmentStatus = Field(description="pending when published")
    createdAt: datetime
    updatedAt: datetime
    rejectionReason: str | None = None
    correlationId: str | None = Field(
        default=None, description="The HTTP request id, carried through every hop"
    )

    @classmethod
    def from_domain(cls, appointment: Appointment) -> AppointmentMessage:
        return cls(
            appointmentId=appointment.appointment_id,
            insuredId=appointment.insured_id,
            scheduleId=appointment.schedule_id,
            countryISO=appointment.country,
            status=appointment.status,
            createdAt=appointment.created_at,
            updatedAt=appointment.updated_at,
            rejectionReason=appointment.rejection_reason,
            correlationId=appointment.correlation_id,
        )

    def to_domain(self) -> Appointment:
        return Appointment(
            appointment_id=self.appointmentId,
            insured_id=self.insuredId,
            schedule_id=self.scheduleId,
            country=self.countryISO,
            status=self.status,
            created_at=self.createdAt,
            updated_at=self.updatedAt,
            rejection_reason=self.rejectionReason,
            correlation_id=self.correlationId,
        )


class AppointmentSettledDetail(_Contract):
    """The `detail` of an AppointmentScheduled or AppointmentRejected event on the bus."""

    version: str = _version_field(SETTLED_DETAIL_VERSION)
    appointmentId: str
    insuredId: str
    scheduleId: int
    countryISO: Country
    settledAt: datetime
    reason: str | None = Field(default=None, description="Why, for AppointmentRejected")
    correlationId: str | None = Field(
        default=None, description="The HTTP request id, carried through every hop"
    )

    @classmethod
    def from_domain(cls, event: AppointmentSettled) -> AppointmentSettledDetail:
        return cls(
            appointmentId=event.appointment_id,
            insuredId=event.insured_id,
            scheduleId=event.schedule_id,
            countryISO=event.country,
            settledAt=event.settled_at,
            reason=event.reason,
            correlationId=event.correlation_id,
        )


class SettledEvent(BaseModel):
    """An AppointmentScheduled or AppointmentRejected event as the bus's rule delivers it to the
    callback queue. The other fields of the envelope are EventBridge's (version "0", id, time,
    account, region, resources)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    source: Literal["rimac.appointments"]
    detail_type: Literal["AppointmentScheduled", "AppointmentRejected"] = Field(alias="detail-type")
    detail: AppointmentSettledDetail

    def to_domain(self) -> AppointmentSettled:
        status = next(status for status, name in DETAIL_TYPES.items() if name == self.detail_type)
        return AppointmentSettled(
            appointment_id=self.detail.appointmentId,
            insured_id=self.detail.insuredId,
            schedule_id=self.detail.scheduleId,
            country=self.detail.countryISO,
            status=status,
            settled_at=self.detail.settledAt,
            reason=self.detail.reason,
            correlation_id=self.detail.correlationId,
        )


# ------------------------------------------------------------------ readers

_unknown_reported: set[tuple[str, frozenset[str]]] = set()


def _checked_version(contract: str, body: object) -> None:
    """Refuse a major version this reader does not know, before the fields are validated: a newer
    major may lack fields this one requires, and the log should say why it was refused."""
    if not isinstance(body, dict):
        return  # not an object: validation says so
    version = body.get("version", UNVERSIONED)
    major = version.split(".", 1)[0] if isinstance(version, str) else None
    if major != str(MAJOR_VERSION):
        logger.error(
            "message of a major version this reader does not know; it fails here, is retried "
            "(a newer reader may take it), then waits in the DLQ",
            contract=contract,
            version=version,
            known_major_version=MAJOR_VERSION,
            appointment_id=body.get("appointmentId"),
            correlation_id=body.get("correlationId"),
        )
        raise UnknownMajorVersion(contract, version)


def _report_unknown_fields(contract: str, read: _Contract) -> None:
    fields = frozenset(read.model_extra or {})
    if not fields or (contract, fields) in _unknown_reported:
        return
    _unknown_reported.add((contract, fields))
    logger.warning(
        "message carries fields this reader does not know; read without them",
        contract=contract,
        version=getattr(read, "version", None),
        unknown_fields=sorted(fields),
        appointment_id=getattr(read, "appointmentId", None),
        # This record's, not the one the logger still holds from the record before.
        correlation_id=getattr(read, "correlationId", None),
    )


def read_appointment_message(body: str) -> Appointment:
    """A country queue's record body (the topic's raw delivery) as the appointment it announces."""
    contract = AppointmentMessage.__name__
    _checked_version(contract, json.loads(body))
    message = AppointmentMessage.model_validate_json(body)
    _report_unknown_fields(contract, message)
    return message.to_domain()


def read_settled_event(body: str) -> AppointmentSettled:
    """A callback queue's record body (the event the rule delivered) as the outcome it announces."""
    contract = AppointmentSettledDetail.__name__
    envelope = json.loads(body)
    _checked_version(contract, envelope.get("detail") if isinstance(envelope, dict) else None)
    event = SettledEvent.model_validate_json(body)
    _report_unknown_fields(contract, event.detail)
    return event.to_domain()
