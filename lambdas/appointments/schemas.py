"""Pydantic models for everything that crosses a boundary: HTTP bodies, queue messages, events.

Untrusted data is validated here and turned into domain types; domain types are
turned back into these shapes on the way out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from appointments.domain import (
    Appointment,
    AppointmentRequest,
    AppointmentSettled,
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

EVENT_SOURCE = "rimac.appointments"
# The EventBridge detail-type names the outcome; the callback maps it back to the status.
DETAIL_TYPES = {
    AppointmentStatus.COMPLETED: "AppointmentScheduled",
    AppointmentStatus.REJECTED: "AppointmentRejected",
}


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


class AppointmentListView(_CamelModel):
    items: list[AppointmentView]


class AppointmentMessage(AppointmentView):
    """The appointment as published on SNS and read from the country queues."""

    correlationId: str | None = None

    @classmethod
    def from_domain(cls, appointment: Appointment) -> AppointmentMessage:
        view = AppointmentView.from_domain(appointment).model_dump()
        return cls(**view, correlationId=appointment.correlation_id)

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


class AppointmentSettledDetail(_CamelModel):
    """The `detail` of an AppointmentScheduled or AppointmentRejected event on EventBridge."""

    appointmentId: str
    insuredId: str
    scheduleId: int
    countryISO: Country
    settledAt: datetime
    reason: str | None = None
    correlationId: str | None = None

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


class SettledEventEnvelope(BaseModel):
    """An EventBridge event as the rule delivers it to the callback queue."""

    model_config = ConfigDict(populate_by_name=True, defer_build=True)

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
