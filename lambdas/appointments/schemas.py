"""Pydantic models for everything that crosses a boundary: HTTP bodies, queue messages, events.

Untrusted data is validated here and turned into domain types; domain types are
turned back into these shapes on the way out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from appointments.domain import (
    Appointment,
    AppointmentRequest,
    AppointmentScheduled,
    AppointmentStatus,
    Country,
)

INSURED_ID_PATTERN = r"^[A-Za-z0-9]{1,32}$"
InsuredId = Annotated[str, StringConstraints(pattern=INSURED_ID_PATTERN)]
ScheduleId = Annotated[int, Strict(), Field(gt=0)]

SCHEDULED_EVENT_SOURCE = "rimac.appointments"
SCHEDULED_EVENT_DETAIL_TYPE = "AppointmentScheduled"


class _CamelModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreateAppointmentBody(_CamelModel):
    """Body of POST /appointments."""

    insuredId: InsuredId = Field(description="1 to 32 letters or digits", examples=["PE001"])
    scheduleId: ScheduleId = Field(description="The schedule slot, a positive integer", examples=[1])
    countryISO: Literal["PE", "CL"] = Field(description="Country of the appointment", examples=["PE"])

    def to_domain(self) -> AppointmentRequest:
        return AppointmentRequest(
            insured_id=self.insuredId, schedule_id=self.scheduleId, country=Country(self.countryISO)
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
        )


class AppointmentListView(_CamelModel):
    items: list[AppointmentView]


class AppointmentMessage(AppointmentView):
    """The appointment as published on SNS and read from the country queues."""

    def to_domain(self) -> Appointment:
        return Appointment(
            appointment_id=self.appointmentId,
            insured_id=self.insuredId,
            schedule_id=self.scheduleId,
            country=self.countryISO,
            status=self.status,
            created_at=self.createdAt,
            updated_at=self.updatedAt,
        )


class AppointmentScheduledDetail(_CamelModel):
    """The `detail` of an AppointmentScheduled event on EventBridge."""

    appointmentId: str
    insuredId: InsuredId
    scheduleId: int
    countryISO: Country
    scheduledAt: datetime

    @classmethod
    def from_domain(cls, event: AppointmentScheduled) -> AppointmentScheduledDetail:
        return cls(
            appointmentId=event.appointment_id,
            insuredId=event.insured_id,
            scheduleId=event.schedule_id,
            countryISO=event.country,
            scheduledAt=event.scheduled_at,
        )

    def to_domain(self) -> AppointmentScheduled:
        return AppointmentScheduled(
            appointment_id=self.appointmentId,
            insured_id=self.insuredId,
            schedule_id=self.scheduleId,
            country=self.countryISO,
            scheduled_at=self.scheduledAt,
        )


class ScheduledEventEnvelope(BaseModel):
    """An EventBridge event as the rule delivers it to the callback queue."""

    model_config = ConfigDict(populate_by_name=True)

    source: Literal["rimac.appointments"]
    detail_type: Literal["AppointmentScheduled"] = Field(alias="detail-type")
    detail: AppointmentScheduledDetail
