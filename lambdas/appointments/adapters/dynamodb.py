"""Appointments in DynamoDB: partition key insuredId, sort key appointmentId (a ULID, so time-ordered)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from appointments.domain import (
    Appointment,
    AppointmentNotFound,
    AppointmentStatus,
    Country,
    StatusMovesForwardOnly,
)
from appointments.ports import AppointmentRepository

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def _to_item(appointment: Appointment) -> dict[str, AttributeValueTypeDef]:
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


def _from_item(item: dict[str, AttributeValueTypeDef]) -> Appointment:
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


class DynamoAppointmentRepository(AppointmentRepository):
    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self._table = table_name
        self._client = client

    def add(self, appointment: Appointment) -> None:
        self._client.put_item(
            TableName=self._table,
            Item=_to_item(appointment),
            ConditionExpression="attribute_not_exists(appointmentId)",
        )

    def get(self, insured_id: str, appointment_id: str) -> Appointment | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"insuredId": {"S": insured_id}, "appointmentId": {"S": appointment_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _from_item(item) if item else None

    def list_for_insured(self, insured_id: str) -> list[Appointment]:
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="insuredId = :insured",
            ExpressionAttributeValues={":insured": {"S": insured_id}},
            ScanIndexForward=False,
        )
        return [_from_item(item) for page in pages for item in page["Items"]]

    def settle(
        self,
        insured_id: str,
        appointment_id: str,
        status: AppointmentStatus,
        reason: str | None,
        now: datetime,
    ) -> bool:
        if status is AppointmentStatus.PENDING:
            raise StatusMovesForwardOnly(AppointmentStatus.PENDING, status)
        update = "SET #status = :status, updatedAt = :now"
        values: dict[str, AttributeValueTypeDef] = {
            ":status": {"S": status.value},
            ":pending": {"S": AppointmentStatus.PENDING.value},
            ":now": {"S": now.isoformat()},
        }
        if reason is not None:
            update += ", rejectionReason = :reason"
            values[":reason"] = {"S": reason}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"insuredId": {"S": insured_id}, "appointmentId": {"S": appointment_id}},
                UpdateExpression=update,
                # Status only moves forward: a repeated or late event finds it settled already.
                ConditionExpression="attribute_exists(appointmentId) AND #status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            if self.get(insured_id, appointment_id) is None:
                raise AppointmentNotFound(insured_id, appointment_id) from None
            return False
        return True
