"""How an appointment is written as a DynamoDB item, and read back; the names of the table's indexes
and of the attributes the outbox and the reconciler's sweep use (adapters/dynamodb.py says how)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from appointments.domain import Appointment, AppointmentStatus, Country

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

OUTBOX_INDEX = "outbox"
OUTBOX_ATTRIBUTE = "outbox"
CREATED_INDEX = "created"
CREATED_IN = "createdIn"
HAND_OVER_DUE = "handOverDue"  # the reconciler hands the item over again only after this moment
HAND_OVERS = "handOvers"  # how many times the reconciler has handed it over
# What the appointment is, as opposed to where it stands (status, updatedAt, reason, outbox).
IDENTITY = ("insuredId", "appointmentId", "scheduleId", "countryISO", "createdAt", "correlationId")


def to_item(appointment: Appointment) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "insuredId": {"S": appointment.insured_id},
        "appointmentId": {"S": appointment.appointment_id},
        "scheduleId": {"N": str(appointment.schedule_id)},
        "countryISO": {"S": appointment.country.value},
        "status": {"S": appointment.status.value},
        "createdAt": {"S": appointment.created_at.isoformat()},
        "updatedAt": {"S": appointment.updated_at.isoformat()},
    }
    if appointment.rejection_reason is not None:
        item["rejectionReason"] = {"S": appointment.rejection_reason}
    if appointment.correlation_id is not None:
        item["correlationId"] = {"S": appointment.correlation_id}
    return item


def new_item(appointment: Appointment) -> dict[str, AttributeValueTypeDef]:
    """A new appointment's item, listed for the reconciler's sweep (what `add` writes)."""
    return to_item(appointment) | {CREATED_IN: {"S": appointment.country.value}}


def from_item(item: dict[str, AttributeValueTypeDef]) -> Appointment:
    return Appointment(
        appointment_id=item["appointmentId"]["S"],
        insured_id=item["insuredId"]["S"],
        schedule_id=int(item["scheduleId"]["N"]),
        country=Country(item["countryISO"]["S"]),
        status=AppointmentStatus(item["status"]["S"]),
        created_at=datetime.fromisoformat(item["createdAt"]["S"]),
        updated_at=datetime.fromisoformat(item["updatedAt"]["S"]),
        rejection_reason=item["rejectionReason"]["S"] if "rejectionReason" in item else None,
        correlation_id=item["correlationId"]["S"] if "correlationId" in item else None,
    )
