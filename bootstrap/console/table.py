"""The appointments table as the console reads it: the newest and an insured's by their keys, and a bounded scan for the counts by status (on AWS a full scan costs a read per item: it runs at most every SCAN_MIN_SECONDS and a share of the time, and says when it stopped short)."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ulid import ULID

from bootstrap import names
from bootstrap.config import StackConfig
from bootstrap.console.clients import SharedClients, plain_value
from bootstrap.stack.queries import (
    NO_STATUS,
)

# The table is read whole for the status counts and the newest appointments: at most this many
# items (the overview then says "at least"), at most a hundredth of the time, so the console
# never takes more than a small share of what it watches, and at least once a minute.
SCAN_ITEM_LIMIT = 10_000


SCAN_SHARE = 100


SCAN_MIN_SECONDS = 10.0


SCAN_MAX_SECONDS = 60.0  # however slow the scan, the counts are never older than this


NEWEST = 50  # appointments the list shows


@dataclass(frozen=True)
class Listed:
    """An appointment as the list shows it."""

    appointment_id: str
    insured_id: str
    country: str
    schedule_id: str
    status: str
    reason: str
    created_at: str


def listed(item: dict[str, Any]) -> Listed:
    plain = {name: next(iter(value.values())) for name, value in item.items()}
    return Listed(
        appointment_id=str(plain.get("appointmentId", "")),
        insured_id=str(plain.get("insuredId", "")),
        country=str(plain.get("countryISO", "")),
        schedule_id=str(plain.get("scheduleId", "")),
        status=str(plain.get("status", NO_STATUS)),
        reason=str(plain.get("rejectionReason") or ""),
        created_at=str(plain.get("createdAt", "")),
    )


@dataclass(frozen=True)
class TableScan:
    """The table read whole (up to SCAN_ITEM_LIMIT items): counts, newest, who holds which id."""

    statuses: Counter[str]
    newest: list[Listed]
    insured_of: dict[str, str]
    complete: bool  # False: the limit stopped the read, the counts are "at least"
    at: datetime
    seconds: float
    oldest_pending: str | None = None  # the id of the oldest appointment still pending

    @property
    def oldest_pending_seconds(self) -> float | None:
        """How long the oldest pending appointment has waited, by the time its ULID holds."""
        if self.oldest_pending is None:
            return None
        return max(0.0, self.at.timestamp() - ulid_time(self.oldest_pending))

    @property
    def again_after(self) -> float:
        """When the table is scanned next, in seconds after this scan."""
        return min(SCAN_MAX_SECONDS, max(SCAN_MIN_SECONDS, SCAN_SHARE * self.seconds))


# The scan reads only what the counts and the search need; the newest appointments' other
# attributes are read afterwards, by their keys.
SCAN_PROJECTION = "insuredId, appointmentId, #s"


def is_ulid(text: str) -> bool:
    """Whether an id is a ULID (an item written by hand or by an older version may hold another)."""
    try:
        ULID.from_str(text)
    except ValueError:
        return False
    return True


def ulid_time(ulid: str) -> float:
    """The moment a ULID was made, in seconds since the epoch (the time its first ten characters
    hold; python-ulid, the library the functions make the ids with)."""
    return float(ULID.from_str(ulid).timestamp)


def scan_table(config: StackConfig, table_name: str) -> TableScan:
    began = time.monotonic()
    dynamodb = config.client("dynamodb")
    statuses: Counter[str] = Counter()
    insured_of: dict[str, str] = {}
    complete = True
    oldest_pending: str | None = None  # ULIDs sort by time: the least id is the oldest
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name, ProjectionExpression=SCAN_PROJECTION, ExpressionAttributeNames={"#s": "status"}
    ):
        for item in page["Items"]:
            status = plain_value(item.get("status")) or NO_STATUS
            statuses[status] += 1
            appointment_id = plain_value(item.get("appointmentId"))
            insured_of[appointment_id] = plain_value(item.get("insuredId"))
            if (
                status == "pending"
                and (oldest_pending is None or appointment_id < oldest_pending)
                and is_ulid(appointment_id)
            ):
                oldest_pending = appointment_id
        if len(insured_of) >= SCAN_ITEM_LIMIT and page.get("LastEvaluatedKey"):
            complete = False
            break
    # ULIDs sort by time: the greatest ids are the newest appointments
    newest = sorted(insured_of, reverse=True)[:NEWEST]
    return TableScan(
        statuses,
        items_by_key(dynamodb, table_name, [(insured_of[i], i) for i in newest]),
        insured_of,
        complete,
        datetime.now(UTC),
        time.monotonic() - began,
        oldest_pending,
    )


def items_by_key(dynamodb: Any, table_name: str, keys: list[tuple[str, str]]) -> list[Listed]:
    """The appointments of these (insured, appointment) keys, in that order (BatchGetItem, a
    hundred keys a call, what it leaves unprocessed asked again)."""
    found: dict[str, Listed] = {}
    for start in range(0, len(keys), 100):
        wanted: dict[str, Any] = {
            table_name: {
                "Keys": [
                    {"insuredId": {"S": insured}, "appointmentId": {"S": appointment}}
                    for insured, appointment in keys[start : start + 100]
                ]
            }
        }
        for _ in range(5):
            answer = dynamodb.batch_get_item(RequestItems=wanted)
            for item in answer["Responses"].get(table_name, []):
                shown = listed(item)
                found[shown.appointment_id] = shown
            wanted = answer.get("UnprocessedKeys") or {}
            if not wanted:
                break
    return [found[appointment] for _, appointment in keys if appointment in found]


def appointments_of(config: SharedClients, outputs: dict[str, str], insured_id: str) -> list[Listed]:
    """An insured's appointments, newest first (a Query: no scan)."""
    answer = config.client("dynamodb").query(
        TableName=outputs[names.TABLE_NAME],
        KeyConditionExpression="insuredId = :i",
        ExpressionAttributeValues={":i": {"S": insured_id}},
        ScanIndexForward=False,
        Limit=NEWEST,
    )
    return [listed(item) for item in answer["Items"]]
