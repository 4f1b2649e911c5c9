"""Appointments in DynamoDB: partition key insuredId, sort key appointmentId (a ULID, so time-ordered).

The table is also the outbox, at no cost to the hot path. A new item carries `createdIn` (its
country), so the index CREATED_INDEX (createdIn, createdAt; keys only) lists every appointment by
country in the order it was created; the status is not in it, so settling an appointment writes
the table alone. The reconciler sweeps that index from where it stopped (its mark per country, in
the sweep table), reads the items, and puts those still pending in the outbox: it sets `outbox`
(their country) on them, so the sparse index OUTBOX_INDEX (outbox, createdAt) holds them; the
callback's settling write removes it. When the reconciler hands one over, it writes when the next
hand-over may come (`HAND_OVER_DUE`) and how many it made (`HAND_OVERS`) on the item.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from appointments.adapters.dynamodb_items import (
    HAND_OVER_DUE,
    HAND_OVERS,
    IDENTITY,
    OUTBOX_ATTRIBUTE,
    OUTBOX_INDEX,
    from_item,
    new_item,
    to_item,
)
from appointments.adapters.dynamodb_sweep import DynamoSweep
from appointments.domain import (
    AlreadyStored,
    Appointment,
    AppointmentNotFound,
    AppointmentStatus,
    Country,
    StatusChange,
    StatusChanged,
    WriteUnconfirmed,
)
from appointments.ports import AppointmentPage, AppointmentRepository, OutboxPage, SweepPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


def _answer_lost(error: BotoCoreError | ClientError) -> bool:
    """Whether the write may have been made: no answer (a timeout, a dropped connection), or an
    error of DynamoDB's own (5xx). A 4xx refusal (a throttle, a bad request) wrote nothing."""
    if isinstance(error, ClientError):
        return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)) >= 500
    return True


class DynamoAppointmentRepository(AppointmentRepository):
    """`sweep_table` (the reconciler's only) holds where each country's sweep reached."""

    def __init__(self, table_name: str, client: DynamoDBClient, sweep_table: str | None = None) -> None:
        self._table = table_name
        self._client = client
        self._sweep = DynamoSweep(client, table_name, sweep_table)

    def _key(self, insured_id: str, appointment_id: str) -> dict[str, AttributeValueTypeDef]:
        return {"insuredId": {"S": insured_id}, "appointmentId": {"S": appointment_id}}

    def add(self, appointment: Appointment) -> None:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=new_item(appointment),
                ConditionExpression="attribute_not_exists(appointmentId)",
            )
        except (BotoCoreError, ClientError) as error:
            # A failed condition: another appointment has this id, or this one is stored already
            # (botocore retried a PutItem that had landed, or the same appointment is written
            # again). A lost answer: it may have been written. The table says which.
            taken = isinstance(error, self._client.exceptions.ConditionalCheckFailedException)
            if not taken and not _answer_lost(error):
                raise
            try:
                stored = self._holds(appointment)
            except (BotoCoreError, ClientError):
                raise WriteUnconfirmed(appointment) from error
            if stored:
                return
            if taken:
                raise AlreadyStored(appointment.appointment_id) from None
            raise WriteUnconfirmed(appointment) from error

    def _holds(self, appointment: Appointment) -> bool:
        """Whether the table holds this appointment (by what it is, whatever its status now)."""
        found = self._client.get_item(
            TableName=self._table,
            Key=self._key(appointment.insured_id, appointment.appointment_id),
            ConsistentRead=True,
        ).get("Item")
        mine = to_item(appointment)
        return found is not None and all(found.get(name) == mine.get(name) for name in IDENTITY)

    def list_for_insured(
        self, insured_id: str, limit: int = 100, after: str | None = None
    ) -> AppointmentPage:
        # One item more than asked tells whether another page follows, so the last page never
        # promises more. A query stops at 1 MB too: then its LastEvaluatedKey says where.
        query: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "insuredId = :insured",
            "ExpressionAttributeValues": {":insured": {"S": insured_id}},
            "ScanIndexForward": False,
            "Limit": limit + 1,
        }
        if after is not None:
            query["ExclusiveStartKey"] = self._key(insured_id, after)
        response = self._client.query(**query)
        items = [from_item(item) for item in response["Items"]]
        if len(items) > limit:
            return AppointmentPage(items[:limit], after=items[limit - 1].appointment_id)
        stopped_at = response.get("LastEvaluatedKey")
        return AppointmentPage(items, after=stopped_at["appointmentId"]["S"] if stopped_at else None)

    def change_status(self, change: StatusChange) -> None:
        # A settled appointment leaves the outbox in the same write: the mark costs no write of its own
        update = "SET #status = :status, updatedAt = :now"
        values: dict[str, AttributeValueTypeDef] = {
            ":status": {"S": change.status.value},
            ":expected": {"S": change.expected.value},
            ":now": {"S": change.at.isoformat()},
        }
        if change.reason is not None:
            update += ", rejectionReason = :reason"
            values[":reason"] = {"S": change.reason}
        update += " REMOVE #outbox"
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(change.insured_id, change.appointment_id),
                UpdateExpression=update,
                ConditionExpression="attribute_exists(appointmentId) AND #status = :expected",
                ExpressionAttributeNames={"#status": "status", "#outbox": OUTBOX_ATTRIBUTE},
                ExpressionAttributeValues=values,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            current = self._client.get_item(
                TableName=self._table,
                Key=self._key(change.insured_id, change.appointment_id),
                ProjectionExpression="#status",
                ExpressionAttributeNames={"#status": "status"},
                ConsistentRead=True,
            ).get("Item")
            if current is None:
                raise AppointmentNotFound(change.insured_id, change.appointment_id) from None
            status = AppointmentStatus(current["status"]["S"])
            raise StatusChanged(change.appointment_id, change.expected, status) from None

    def mark_handed_over(self, appointment: Appointment, again_after: datetime) -> None:
        self._into_outbox(
            appointment,
            "SET #outbox = :country, #due = :due ADD #count :one",
            {"#due": HAND_OVER_DUE, "#count": HAND_OVERS},
            {":due": {"S": again_after.isoformat()}, ":one": {"N": "1"}},
        )

    def keep_for_hand_over(self, appointment: Appointment) -> None:
        self._into_outbox(appointment, "SET #outbox = :country", {}, {})

    def _into_outbox(
        self,
        appointment: Appointment,
        update: str,
        names: dict[str, str],
        values: dict[str, AttributeValueTypeDef],
    ) -> None:
        pending: dict[str, AttributeValueTypeDef] = {
            ":country": {"S": appointment.country.value},
            ":pending": {"S": AppointmentStatus.PENDING.value},
        }
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(appointment.insured_id, appointment.appointment_id),
                UpdateExpression=update,
                # never create an item; one settled meanwhile stays out of the outbox: in it, an
                # appointment is always a pending one, as the settling write takes it out
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#outbox": OUTBOX_ATTRIBUTE, "#status": "status"} | names,
                ExpressionAttributeValues=pending | values,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            raise AppointmentNotFound(appointment.insured_id, appointment.appointment_id) from None
        except (BotoCoreError, ClientError) as error:
            raise WriteUnconfirmed(appointment) from error

    def accepted_between(
        self,
        country: Country,
        since: datetime | None,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
    ) -> SweepPage:
        return self._sweep.accepted_between(country, since, created_before, limit, after)

    def swept_to(self, country: Country) -> datetime | None:
        return self._sweep.swept_to(country)

    def record_swept_to(self, country: Country, moment: datetime) -> bool:
        return self._sweep.record_swept_to(country, moment)

    def not_handed_over(
        self,
        country: Country,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
        due_by: datetime | None = None,
    ) -> OutboxPage:
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": OUTBOX_INDEX,
            "KeyConditionExpression": "#outbox = :country AND createdAt < :before",
            "ExpressionAttributeNames": {"#outbox": OUTBOX_ATTRIBUTE},
            "ExpressionAttributeValues": {
                ":country": {"S": country.value},
                ":before": {"S": created_before.isoformat()},
            },
            "Limit": limit,
        }
        if due_by is not None:
            # The limit counts the items read, before this filter: a page may hold fewer, or none
            query["FilterExpression"] = "attribute_not_exists(#due) OR #due <= :due"
            query["ExpressionAttributeNames"]["#due"] = HAND_OVER_DUE
            query["ExpressionAttributeValues"][":due"] = {"S": due_by.isoformat()}
        if after is not None:
            query["ExclusiveStartKey"] = json.loads(after)
        response = self._client.query(**query)
        items, unreadable, hand_overs = [], [], {}
        for item in response["Items"]:
            try:
                appointment = from_item(item)
                made = int(item[HAND_OVERS]["N"]) if HAND_OVERS in item else 0
            except (KeyError, ValueError, TypeError):
                unreadable.append(item["appointmentId"]["S"])
                continue
            items.append(appointment)
            if made:
                hand_overs[appointment.appointment_id] = made
        # The index's key of the last item read (its country, createdAt and the table's key): the
        # next query starts after it, whether or not that item is still in the index by then
        stopped_at = response.get("LastEvaluatedKey")
        return OutboxPage(
            items, unreadable, after=json.dumps(stopped_at) if stopped_at else None, hand_overs=hand_overs
        )
