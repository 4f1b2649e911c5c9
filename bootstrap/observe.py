"""`make status`, `make trace` and `make logs`: what the stack holds, where one appointment went,
and what the functions said.

All read only, through stack_queries: the stack's resources, the queues' depths, the table,
MySQL and the functions' CloudWatch logs (which the local engine fills as AWS does).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import cycle
from typing import Any

from appointments.adapters.dynamodb import OUTBOX_ATTRIBUTE
from appointments.domain import AppointmentStatus, Country
from appointments.schemas import APPOINTMENT_ID_PATTERN
from bootstrap import names
from bootstrap.config import KitConfig, KitError, StackConfig
from bootstrap.stack_queries import (
    admin_connection,
    events_since,
    peek,
    queue_depth,
    stack_outputs,
    status_counts,
)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [line.format(*headers), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in rows]
    )


STATUSES = tuple(status.value for status in AppointmentStatus)


def status(config: StackConfig) -> str:
    outputs = stack_outputs(config)
    cfn, sqs = config.client("cloudformation"), config.client("sqs")
    resources = cfn.describe_stack_resources(StackName=config.stack_name)["StackResources"]
    parts = [
        f"Stack {config.stack_name} on {config.where}: {len(resources)} resources",
        table(
            ["resource", "type", "status"],
            [
                [r["LogicalResourceId"], r["ResourceType"], r["ResourceStatus"]]
                for r in sorted(resources, key=lambda r: r["LogicalResourceId"])
            ],
        ),
        "",
        table(
            ["queue", "waiting", "in flight", "DLQ waiting"],
            [
                [
                    outputs[pair.queue_output].rsplit("/", 1)[-1],
                    *map(str, queue_depth(sqs, outputs[pair.queue_output])),
                    str(queue_depth(sqs, outputs[pair.dead_letter_output]).waiting),
                ]
                for pair in names.QUEUES.values()
            ],
        ),
        "",
    ]
    counts = status_counts(config, outputs[names.TABLE_NAME])
    parts.append(
        table(
            ["appointments", "count"],
            [[name, str(counts.get(name, 0))] for name in STATUSES]
            + [[name, str(count)] for name, count in sorted(counts.items()) if name not in STATUSES]
            + [["all", str(sum(counts.values()))]],
        )
    )
    return "\n".join(parts)


@dataclass(frozen=True)
class Hop:
    at: datetime
    what: str
    # where a function's line came from: its log group and stream (the invocation that wrote it)
    group: str | None = None
    stream: str | None = None
    failed: bool = False  # the line reports the record failed (an exception logged with it)


def _log_hops(config: StackConfig, function: str, appointment_id: str) -> list[Hop]:
    logs = config.client("logs")
    hops = []
    try:
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}", filterPattern=f'"{appointment_id}"'
        )
        events = [event for page in pages for event in page["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []
    for event in events:
        try:
            line = json.loads(event["message"])
        except ValueError:
            continue
        if line.get("appointment_id") != appointment_id:
            continue
        detail = ", ".join(
            f"{k}={line[k]}"
            for k in ("outcome", "stored_before", "status", "country", "receive_count", "handed_over")
            if k in line
        )
        error = f": {line['exception_name']} {line.get('message', '')}" if "exception_name" in line else ""
        # The function's own clock, not the time the engine collected the line.
        stamp = line.get("timestamp")
        at = (
            datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f%z")
            if isinstance(stamp, str)
            else datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
        )
        hops.append(
            Hop(
                at,
                f"{function}: {line.get('message', '')}{f' ({detail})' if detail else ''}{error}",
                group=f"/aws/lambda/{function}",
                stream=event.get("logStreamName"),
                failed="exception_name" in line,
            )
        )
    return hops


def _find(
    config: StackConfig, table_name: str, appointment_id: str, insured_id: str | None = None
) -> dict[str, Any]:
    """The item, read by its key when the insured is known, else found by a scan of the table."""
    dynamodb = config.client("dynamodb")
    if insured_id is not None:
        item = dynamodb.get_item(
            TableName=table_name,
            Key={"insuredId": {"S": insured_id}, "appointmentId": {"S": appointment_id}},
        ).get("Item")
        if item is None:
            raise KitError(f"no appointment {appointment_id} of {insured_id} in {table_name}")
        return {name: next(iter(value.values())) for name, value in item.items()}
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name,
        FilterExpression="appointmentId = :id",
        ExpressionAttributeValues={":id": {"S": appointment_id}},
    ):
        if page["Items"]:
            return {name: next(iter(value.values())) for name, value in page["Items"][0].items()}
    raise KitError(f"no appointment {appointment_id} in {table_name}")


def stored_country(appointment: dict[str, Any]) -> Country:
    """The appointment's country as the table holds it, if it is one the kit serves."""
    stored = appointment.get("countryISO")
    if not isinstance(stored, str) or stored not in names.SCHEMAS:
        raise KitError(f"appointment {appointment.get('appointmentId')} holds an unknown country {stored!r}")
    return Country(stored)


def _mysql_hop(config: StackConfig, appointment: dict[str, Any]) -> Hop | None:
    if not isinstance(config, KitConfig):  # AWS: no admin connection to the database is at hand
        return None
    schema = names.SCHEMAS[stored_country(appointment)]
    connection = admin_connection(config)
    with connection, connection.cursor() as cursor:
        for table_name, column, what in (
            ("appointments", "stored_at", "row stored"),
            ("appointment_rejections", "rejected_at", "rejection stored (slot taken)"),
        ):
            cursor.execute(
                f"SELECT {column} FROM {schema}.{table_name} WHERE appointment_id = %s",  # noqa: S608
                (appointment["appointmentId"],),
            )
            row = cursor.fetchone()
            if row:
                return Hop(row[0].replace(tzinfo=UTC), f"MySQL {schema}.{table_name}: {what}")
    return None


def _in_dead_letter_queue(config: StackConfig, outputs: dict[str, str], appointment_id: str) -> str | None:
    sqs = config.client("sqs")
    for key in names.DEAD_LETTER_QUEUE_OUTPUTS:
        if any(appointment_id in body for body in peek(sqs, outputs[key])):
            return outputs[key].rsplit("/", 1)[-1]
    return None


def check_appointment_id(text: str) -> str:
    """The id `make trace` was given, if it has the shape of one; it goes into a log filter and a
    table scan, so anything else stops here with one line that shows it escaped and cut short."""
    if not re.fullmatch(APPOINTMENT_ID_PATTERN, text):
        shown = repr(text if len(text) <= 40 else text[:40] + "...")
        raise KitError(
            f"{shown} is not an appointment id: 26 capital letters and digits, as POST /appointments answers"
        )
    return text


@dataclass(frozen=True)
class Journey:
    """Where one appointment went: its item, its hops in time order, and where it stopped."""

    appointment: dict[str, Any]
    country: Country
    hops: list[Hop]
    accepted: datetime
    stopped: str | None  # where a pending appointment waits; None once it is settled


def journey(config: StackConfig, appointment_id: str, insured_id: str | None = None) -> Journey:
    outputs = stack_outputs(config)
    appointment = _find(config, outputs[names.TABLE_NAME], appointment_id, insured_id)
    country = stored_country(appointment)
    processor = outputs[names.processor_function_output(country)]
    accepted = datetime.fromisoformat(appointment["createdAt"])
    hops = [Hop(accepted, "HTTP: accepted, stored in DynamoDB as pending")]
    accepted_lines = _log_hops(config, outputs[names.HTTP_FUNCTION_NAME], appointment_id)
    refused = any("handed_over=False" in hop.what for hop in accepted_lines)
    first = accepted_lines[0] if accepted_lines else None
    if first and refused:
        hops.append(replace(first, what="SNS: refused the publish; kept in the outbox for the reconciler"))
    elif first:
        hops.append(replace(first, what=f"SNS: published with countryISO={country}"))
    for late in _log_hops(config, outputs[names.RECONCILER_FUNCTION_NAME], appointment_id):
        hops.append(replace(late, what=f"SNS: published with countryISO={country} by the reconciler"))
    queue = outputs[names.queue_output(country)].rsplit("/", 1)[-1]
    processed = _log_hops(config, processor, appointment_id)
    for hop in processed:
        hops.append(replace(hop, what=f"{hop.what} [from {queue}]"))
        if "outcome=scheduled" in hop.what or "outcome=rejected" in hop.what:
            kind = "AppointmentScheduled" if "outcome=scheduled" in hop.what else "AppointmentRejected"
            hops.append(Hop(hop.at, f"EventBridge: {kind} on {outputs[names.EVENT_BUS_NAME]}"))
    stored = _mysql_hop(config, appointment)
    if stored:
        hops.append(stored)
    hops += _log_hops(config, outputs[names.CALLBACK_FUNCTION_NAME], appointment_id)
    hops.sort(key=lambda hop: hop.at)
    final = appointment["status"]
    stopped = None
    if final != "pending":
        reason = f" ({appointment['rejectionReason']})" if appointment.get("rejectionReason") else ""
        settled = max(datetime.fromisoformat(appointment["updatedAt"]), hops[-1].at)
        hops.append(Hop(settled, f"final status: {final}{reason}"))
    else:
        dead = _in_dead_letter_queue(config, outputs, appointment_id)
        if dead:
            stopped = f"in the DLQ {dead}: it failed every receive; fix the cause, then make redrive"
        elif OUTBOX_ATTRIBUTE in appointment:
            stopped = "in the outbox: SNS has not taken it yet; the reconciler publishes it every minute"
        else:
            stopped = "still in " + queue if not processed else "between the processor and the callback"
    return Journey(appointment, country, hops, accepted, stopped)


def trace(config: KitConfig, appointment_id: str) -> str:
    found = journey(config, appointment_id)
    appointment, accepted = found.appointment, found.accepted
    lines = [
        f"Appointment {appointment_id} of {appointment['insuredId']}, {found.country}, schedule {appointment['scheduleId']}"
    ]
    lines += [f"  +{(hop.at - accepted).total_seconds() * 1000:8.0f} ms  {hop.what}" for hop in found.hops]
    if found.stopped is not None:
        lines.append(f"  stopped: status pending, {found.stopped}")
    else:
        lines.append(f"  total {(found.hops[-1].at - accepted).total_seconds() * 1000:.0f} ms")
    return "\n".join(lines)


# ANSI colours, one per function in the order of names.FUNCTIONS
FUNCTION_COLORS = dict(
    zip((f.output for f in names.FUNCTIONS), cycle(("36", "33", "35", "32", "34", "31")), strict=False)
)
SHOWN_KEYS = ("appointment_id", "outcome", "status", "country", "correlation_id", "exception_name")


def human_line(function: str, message: str, color: str | None) -> str:
    """One log event as a person reads it: time, function, level, message, the keys that matter."""
    try:
        line = json.loads(message)
    except ValueError:
        line = None
    if not isinstance(line, dict):  # START/END/REPORT lines and plain prints
        text = f"{function:<32} {message.strip()}"
    else:
        stamp = str(line.get("timestamp", ""))[11:23]
        keys = " ".join(f"{k}={line[k]}" for k in SHOWN_KEYS if k in line)
        text = f"{stamp} {function:<32} {line.get('level', ''):<7} {line.get('message', '')}  {keys}"
    return f"\033[{color}m{text}\033[0m" if color else text


def logs(config: StackConfig, raw_json: bool, follow: bool, since_seconds: int, colour: bool) -> None:
    """Print every function's logs merged in time order; with follow, keep polling."""
    outputs = stack_outputs(config)
    client = config.client("logs")
    start = int((datetime.now(UTC).timestamp() - since_seconds) * 1000)
    seen: set[str] = set()
    while True:
        batch = []
        for key, color in FUNCTION_COLORS.items():
            group = f"/aws/lambda/{outputs[key]}"
            try:
                events = events_since(client, group, start)
            except client.exceptions.ResourceNotFoundException:
                continue
            name = names.short_name(config.stage, outputs[key])
            # The engine gives no eventId: stream, time and text tell two events apart.
            batch += [
                (
                    e["timestamp"],
                    f"{e.get('logStreamName')}/{e['timestamp']}/{e['message']}",
                    name,
                    e["message"],
                    color,
                )
                for e in events
            ]
        for timestamp, event_id, name, message, color in sorted(batch):
            if event_id in seen:
                continue
            seen.add(event_id)
            start = max(start, timestamp)
            print(
                message.strip() if raw_json else human_line(name, message, color if colour else None),
                flush=True,
            )
        if not follow:
            return
        time.sleep(1)
