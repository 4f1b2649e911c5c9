"""Pydantic models of the HTTP API: request bodies, answers, errors.

Untrusted data is validated here and turned into domain types; domain types are turned back into
these shapes on the way out. The messages between functions are contracts of their own, in
messages.py: changing an answer here changes no message.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from appointments.domain import (
    Appointment,
    AppointmentRequest,
    AppointmentStatus,
    Country,
)

INSURED_ID_PATTERN = r"^[A-Za-z0-9]{1,32}$"
# A ULID (services.new_appointment_id): 26 characters of Crockford's base32, upper case.
APPOINTMENT_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"
InsuredId = Annotated[str, StringConstraints(pattern=INSURED_ID_PATTERN)]


def _whole_number(value: object) -> object:
    """JSON Schema counts 7.0 as an integer: accept it as 7. Strings, booleans and 7.5 stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# The largest integer every JSON client reads exactly (2^53 - 1); MySQL's BIGINT UNSIGNED column
# and DynamoDB hold more, so a valid id is always stored, never refused later in the flow.
MAX_SCHEDULE_ID = 2**53 - 1
ScheduleId = Annotated[int, Strict(), Field(gt=0, le=MAX_SCHEDULE_ID), BeforeValidator(_whole_number)]


class _CamelModel(BaseModel):
    # defer_build: a model is built when first used, so no function builds the ones it never reads
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CreateAppointmentBody(_CamelModel):
    """Body of POST /appointments."""

    insuredId: InsuredId = Field(description="1 to 32 letters or digits", examples=["PE001"])
    scheduleId: ScheduleId = Field(
        description="The schedule slot, a positive integer up to 2^53 - 1", examples=[1]
    )
    countryISO: Country = Field(description="Country of the appointment", examples=[Country.PE])

    def to_domain(self, correlation_id: str | None = None) -> AppointmentRequest:
        return AppointmentRequest(
            insured_id=self.insuredId,
            schedule_id=self.scheduleId,
            country=self.countryISO,
            correlation_id=correlation_id,
        )


class AppointmentView(_CamelModel):
    """An appointment as the HTTP API shows it."""

    appointmentId: str
    insuredId: str
    scheduleId: int
    countryISO: Country
    status: AppointmentStatus
    createdAt: datetime
    updatedAt: datetime
    rejectionReason: str | None = Field(default=None, description="Why, when status is rejected")

    @classmethod
    def from_domain(cls, appointment: Appointment) -> AppointmentView:
        return cls(
            appointmentId=appointment.appointment_id,
            insuredId=appointment.insured_id,
            scheduleId=appointment.schedule_id,
            countryISO=appointment.country,
            status=appointment.status,
            createdAt=appointment.created_at,
            updatedAt=appointment.updated_at,
            rejectionReason=appointment.rejection_reason,
        )


class FieldErrorView(_CamelModel):
    field: str
    message: str


class ErrorView(_CamelModel):
    """Every error answer: a sentence, for a 400 one entry per bad field, and for a 500 the
    request id to quote (the detail is in the function's log under it)."""

    message: str
    errors: list[FieldErrorView] | None = None
    requestId: str | None = None
    appointmentId: str | None = Field(
        default=None, description="For a 503: the appointment it may have stored"
    )


class AppointmentListView(_CamelModel):
    items: list[AppointmentView]
    nextToken: str | None = Field(
        default=None,
        description="Present when more appointments follow: send it back as the nextToken query parameter",
    )


# ------------------------------------------------------------------ the list's page token

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
PAGE_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,200}$"  # noqa: S105 (base64url, unpadded; not a secret)


class InvalidPageToken(ValueError):
    """A nextToken this API did not give for this insured (tampered, truncated, another's)."""


class _PageCursor(_CamelModel):
    """What a nextToken holds: the key the next page starts after, as DynamoDB names it."""

    insuredId: InsuredId
    appointmentId: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{26}$")]  # a ULID


def encode_page_token(insured_id: str, after: str) -> str:
    cursor = json.dumps({"insuredId": insured_id, "appointmentId": after}, separators=(",", ":"))
    return base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")


def decode_page_token(token: str, insured_id: str) -> str:
    """The appointment id the page starts after. Raises InvalidPageToken for anything but a token
    this API gave for this insured."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        cursor = _PageCursor.model_validate_json(raw)
    except (ValueError, binascii.Error):  # pydantic's ValidationError is a ValueError
        raise InvalidPageToken("not a token this API gave; start again without it") from None
    if cursor.insuredId != insured_id:
        raise InvalidPageToken("this token belongs to another insured's list")
    return cursor.appointmentId
