"""`make trace`: where one appointment went, hop by hop, from the functions' logs, the table and MySQL, or where and why it stopped (the console draws the same journey)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from appointments.adapters.dynamodb_items import OUTBOX_ATTRIBUTE
from appointments.domain import Country
from appointments.http.schemas import APPOINTMENT_ID_PATTERN
from bootstrap import names
from bootstrap.config import KitConfig, KitError, StackConfig
from bootstrap.stack.queries import (
    admin_connection,
    function_logs,
    peek,
    stack_outputs,
)


@dataclass(frozen=True)
class Hop:
    at: datetime
    what: str
    # where a function's line came from: its log group and stream (the invocation that wrote it)
    group: str | None = None
    stream: str | None = None
    failed: bool = False  # the line reports the record failed (an exception logged with it)
    request_id: str | None = None  # the invocation's, as powertools logs it (function_request_id)


def _log_hops(config: StackConfig, function: str, appointment_id: str) -> list[Hop]:
    hops = []
    for event in function_logs(config.client("logs"), function, containing=appointment_id):
        line = event.fields
        if line is None or line.get("appointment_id") != appointment_id:
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
            else datetime.fromtimestamp(event.timestamp / 1000, UTC)
        )
        hops.append(
            Hop(
                at,
                f"{function}: {line.get('message', '')}{f' ({detail})' if detail else ''}{error}",
                group=names.log_group(function),
                stream=event.stream,
                failed="exception_name" in line,
                request_id=line.get("function_request_id"),
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
        hops.append(
            replace(first, what="SNS: refused the publish; stored pending for the reconciler's sweep")
        )
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
        elif refused and len(hops) == 2:
            where = "in the outbox" if OUTBOX_ATTRIBUTE in appointment else "not swept yet"
            stopped = f"{where}: SNS has not taken it yet; the reconciler publishes it once a minute old"
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
