"""Pydantic models of the HTTP API: request bodies, answers, errors.

Untrusted data is validated here and turned into domain types; domain types are turned back into
these shapes on the way out. The messages between functions are contracts of their own, in
messages.py: changing an answer here changes no message.
"""

from __future__ import annotations

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
    model_config = ConfigDict(extra="forbid", frozen=True)


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


class AppointmentListView(_CamelModel):
    items: list[AppointmentView]
