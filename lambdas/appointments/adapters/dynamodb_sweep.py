"""The reconciler's sweep of the appointments table: the created index read a page at a time,
the items of a page read in one call, and where each country's sweep reached (the sweep table)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from appointments.adapters.dynamodb_items import CREATED_IN, CREATED_INDEX, OUTBOX_ATTRIBUTE, from_item
from appointments.domain import AppointmentStatus, Country
from appointments.ports import SweepPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef


SWEPT_TO = "sweptTo"  # the sweep table's item per country (key `country`): where its sweep reached
BATCH_GET_LIMIT = 100  # keys per BatchGetItem
BATCH_GET_ROUNDS = 3  # calls per page for keys DynamoDB leaves unprocessed, before the page is given up
ONE_MICROSECOND = timedelta(microseconds=1)


class DynamoSweep:
    def __init__(self, client: DynamoDBClient, table: str, sweep_table: str | None) -> None:
        self._client = client
        self._table = table
        self._sweep_table = sweep_table

    def accepted_between(
        self,
        country: Country,
        since: datetime | None,
        created_before: datetime,
        limit: int = 100,
        after: str | None = None,
    ) -> SweepPage:
        # BETWEEN includes both ends, and the times are ISO strings to the microsecond: the last
        # one before `created_before` is a microsecond before it
        last = created_before - ONE_MICROSECOND
        if since is not None and since > last:
            return SweepPage([])  # an empty span (DynamoDB refuses a BETWEEN whose ends cross)
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": CREATED_INDEX,
            "KeyConditionExpression": "#in = :country AND createdAt BETWEEN :since AND :before",
            "ExpressionAttributeNames": {"#in": CREATED_IN},
            "ExpressionAttributeValues": {
                ":country": {"S": country.value},
                # ISO times sort as strings: "0" comes before any of them
                ":since": {"S": since.isoformat() if since is not None else "0"},
                ":before": {"S": last.isoformat()},
            },
            "Limit": min(limit, BATCH_GET_LIMIT),
        }
        if after is not None:
            query["ExclusiveStartKey"] = json.loads(after)
        response = self._client.query(**query)
        listed = response["Items"]  # keys only: the table's and the index's
        stopped_at = response.get("LastEvaluatedKey")
        next_page = json.dumps(stopped_at) if stopped_at else None
        if not listed:
            return SweepPage([], after=next_page)
        items, unread = self._read_all(
            [{"insuredId": k["insuredId"], "appointmentId": k["appointmentId"]} for k in listed]
        )
        unsettled, unreadable = [], []
        for key in listed:
            item = items.get((key["insuredId"]["S"], key["appointmentId"]["S"]))
            if item is None or OUTBOX_ATTRIBUTE in item:
                continue  # gone, not read (in `unread`), or in the outbox already (the walk's)
            try:
                appointment = from_item(item)
            except (KeyError, ValueError, TypeError):
                unreadable.append(key["appointmentId"]["S"])
                continue
            if appointment.status is AppointmentStatus.PENDING:
                unsettled.append(appointment)
        reached = datetime.fromisoformat(listed[-1]["createdAt"]["S"])
        return SweepPage(unsettled, unreadable, reached=reached, after=next_page, unread=unread)

    def _read_all(
        self, keys: list[dict[str, AttributeValueTypeDef]]
    ) -> tuple[dict[tuple[str, str], dict[str, AttributeValueTypeDef]], list[str]]:
        """The items of these keys (at most BATCH_GET_LIMIT) by key, and the appointment ids of
        those DynamoDB left unprocessed (throttled) after BATCH_GET_ROUNDS calls. Eventually
        consistent: an item settled a moment ago may read pending, which the outbox's
        conditional write then finds settled."""
        found: dict[tuple[str, str], dict[str, AttributeValueTypeDef]] = {}
        wanted: Any = {self._table: {"Keys": keys}}
        for _ in range(BATCH_GET_ROUNDS):
            response = self._client.batch_get_item(RequestItems=wanted)
            for item in response.get("Responses", {}).get(self._table, []):
                found[(item["insuredId"]["S"], item["appointmentId"]["S"])] = item
            wanted = response.get("UnprocessedKeys") or {}
            if not wanted:
                return found, []
        return found, [key["appointmentId"]["S"] for key in wanted[self._table]["Keys"]]

    def swept_to(self, country: Country) -> datetime | None:
        item = self._client.get_item(
            TableName=self._sweep_table_name(), Key={"country": {"S": country.value}}, ConsistentRead=True
        ).get("Item")
        return datetime.fromisoformat(item[SWEPT_TO]["S"]) if item and SWEPT_TO in item else None

    def record_swept_to(self, country: Country, moment: datetime) -> bool:
        try:
            self._client.put_item(
                TableName=self._sweep_table_name(),
                Item={"country": {"S": country.value}, SWEPT_TO: {"S": moment.isoformat()}},
                ConditionExpression="attribute_not_exists(#to) OR #to < :to",  # never back
                ExpressionAttributeNames={"#to": SWEPT_TO},
                ExpressionAttributeValues={":to": {"S": moment.isoformat()}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return True  # it had reached further already
        except (BotoCoreError, ClientError):
            return False
        return True

    def _sweep_table_name(self) -> str:
        if self._sweep_table is None:
            raise RuntimeError("this repository was made without the sweep table (the reconciler's)")
        return self._sweep_table
