"""Questions about the running stack, answered without changing anything: its outputs, the admin
MySQL connection (and the TLS of one to a real server), queue depths and the messages waiting in
a queue, appointments per status and in the outbox, rows per schema, a log group's events, one
invocation's start and duration, the functions' invocations and errors.

The commands (`make status`, `trace`, `logs`, `redrive`, `watch`, `up`), the tests and bench/ ask
here; a command never reaches into another command's module for one of these.
"""

from __future__ import annotations

import json
import re
import ssl
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pymysql
from botocore.exceptions import ClientError

from appointments.adapters.dynamodb_items import OUTBOX_ATTRIBUTE, OUTBOX_INDEX
from appointments.adapters.ssm import parse_api_keys
from bootstrap import names
from bootstrap.config import KitConfig, KitError, StackConfig


def stack_outputs(config: StackConfig) -> dict[str, str]:
    cfn = config.client("cloudformation")
    try:
        stack = cfn.describe_stacks(StackName=config.stack_name)["Stacks"][0]
    except ClientError:
        raise KitError(
            f"stack {config.stack_name} is not deployed on {config.where}; run `make up`"
        ) from None
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}


def admin_connection(config: KitConfig, **options: Any) -> pymysql.connections.Connection:
    """A connection as the MySQL admin user of the settings (MYSQL_HOST, ...)."""
    return pymysql.connect(
        host=config.mysql_host,
        port=config.mysql_port,
        user=config.mysql_user,
        password=config.mysql_password,
        **options,
    )


def admin_tls(ssl_ca: str | None, require_tls: bool) -> ssl.SSLContext | None:
    """The admin connection's TLS, required, the server's certificate and name checked against
    `ssl_ca` (RDS's bundle) or the system's authorities. None, when not required (a local test
    server), lets the driver use TLS where the server offers it."""
    if not require_tls:
        return None
    return ssl.create_default_context(cafile=ssl_ca)


class QueueDepth(NamedTuple):
    waiting: int
    in_flight: int  # received and not yet deleted: being processed, or failed and hidden until retried

    @property
    def total(self) -> int:
        return self.waiting + self.in_flight


def queue_depth(sqs: Any, url: str) -> QueueDepth:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return QueueDepth(
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


# While a queue is read whole, each message read is hidden for at most this long; it is shown
# again as soon as the reading ends.
SCAN_HIDE_SECONDS = 10
SCAN_ROUNDS = 100  # up to 1000 messages


def waiting_messages(sqs: Any, url: str, rounds: int = SCAN_ROUNDS) -> list[dict[str, Any]]:
    """Every message waiting in a queue (up to ten a round), each with its ApproximateReceiveCount
    (this read counts as one receive) and SentTimestamp, left there.

    A receive with a zero visibility timeout shows the same first ten messages every time on the
    local engine, so a dead-letter queue holding more would hide the rest: here each message is
    hidden while the queue is read, then shown again at once."""
    found: dict[str, dict[str, Any]] = {}
    try:
        for _ in range(rounds):
            batch = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=SCAN_HIDE_SECONDS,
                AttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            ).get("Messages", [])
            if not batch:
                break
            found.update((message["MessageId"], message) for message in batch)
    finally:
        handles = [message["ReceiptHandle"] for message in found.values()]
        for start in range(0, len(handles), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                    for n, handle in enumerate(handles[start : start + 10])
                ],
            )
    return list(found.values())


def peek(sqs: Any, url: str) -> list[str]:
    """The bodies waiting in a queue, left there."""
    return [message["Body"] for message in waiting_messages(sqs, url)]


NO_STATUS = "(no-status)"


def status_counts(config: StackConfig, table_name: str) -> Counter[str]:
    dynamodb = config.client("dynamodb")
    counts: Counter[str] = Counter()
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name, ProjectionExpression="#s", ExpressionAttributeNames={"#s": "status"}
    ):
        # an item written by hand may have no status: it gets a row of its own
        counts.update(item.get("status", {}).get("S", NO_STATUS) for item in page["Items"])
    return counts


def outbox_backlog(config: StackConfig, table_name: str) -> int:
    """Appointments the reconciler's sweep found still pending and has not seen settled since:
    the sparse outbox index's items, counted by a Query per country (the index's key), not a
    scan of it. One refused a moment ago is not counted until a sweep has read it."""
    dynamodb = config.client("dynamodb")
    return sum(
        page["Count"]
        for country in names.COUNTRIES
        for page in dynamodb.get_paginator("query").paginate(
            TableName=table_name,
            IndexName=OUTBOX_INDEX,
            KeyConditionExpression="#outbox = :country",
            ExpressionAttributeNames={"#outbox": OUTBOX_ATTRIBUTE},
            ExpressionAttributeValues={":country": {"S": country.value}},
            Select="COUNT",
        )
    )


def schema_rows(connection: pymysql.connections.Connection) -> dict[str, dict[str, int]]:
    """Each country schema -> rows of its appointments and of its rejections."""
    rows: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        for schema in names.SCHEMAS.values():
            rows[schema] = {}
            for table_name in ("appointments", "appointment_rejections"):
                cursor.execute(f"SELECT COUNT(*) FROM {schema}.{table_name}")  # noqa: S608 (fixed names)
                rows[schema][table_name] = int(cursor.fetchone()[0])
    return rows


def metric_query(
    query_id: str, namespace: str, metric: str, dimension: tuple[str, str], stat: str
) -> dict[str, Any]:
    """One query of a GetMetricData call: a metric of one resource, a datapoint a minute."""
    name, value = dimension
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": name, "Value": value}],
            },
            "Period": 60,
            "Stat": stat,
        },
    }


def function_metrics(config: StackConfig, functions: list[str], minutes: int) -> dict[str, dict[str, int]]:
    """Each function -> its Invocations and Errors summed over the last `minutes` (CloudWatch's
    AWS/Lambda metrics, one call for all)."""
    now = datetime.now(UTC)
    queries = [
        metric_query(f"m{n}_{metric.lower()}", "AWS/Lambda", metric, ("FunctionName", function), "Sum")
        for n, function in enumerate(functions)
        for metric in ("Invocations", "Errors")
    ]
    answer = config.client("cloudwatch").get_metric_data(
        MetricDataQueries=queries, StartTime=now - timedelta(minutes=minutes), EndTime=now
    )
    sums = {result["Id"]: int(sum(result.get("Values", []))) for result in answer["MetricDataResults"]}
    return {
        function: {metric: sums.get(f"m{n}_{metric.lower()}", 0) for metric in ("Invocations", "Errors")}
        for n, function in enumerate(functions)
    }


class Invocation(NamedTuple):
    started: datetime
    duration_ms: float

    @property
    def ended(self) -> datetime:
        return self.started + timedelta(milliseconds=self.duration_ms)


REPORT_DURATION = re.compile(r"^REPORT RequestId: (\S+)\s+Duration: ([0-9.]+) ms")


def _reports(lines: Iterable[tuple[int, str]]) -> list[tuple[int, str, float]]:
    """(when, request id, duration in ms) of each REPORT line among (timestamp, message) pairs."""
    return [(at, m.group(1), float(m.group(2))) for at, text in lines if (m := REPORT_DURATION.match(text))]


def invocation(client: Any, group: str, stream: str, request_id: str | None = None) -> Invocation | None:
    """The invocation that wrote a line of this log stream: it ended when its REPORT line was
    written, and started the REPORT's duration before. The REPORT of `request_id` when it is
    known, found in the stream or, where a busy worker's late lines went to its next invocation,
    anywhere in the group; else the stream's only REPORT. None while there is none (yet)."""
    events = client.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
    reports = _reports((e["timestamp"], e["message"]) for e in events)
    if request_id is not None:
        reports = [report for report in reports if report[1] == request_id]
        if not reports:
            function = group.removeprefix(names.LOG_GROUP_PREFIX)
            found = function_logs(client, function, containing=f"REPORT RequestId: {request_id}")
            reports = [r for r in _reports((e.timestamp, e.message) for e in found) if r[1] == request_id]
    if len(reports) != 1:
        return None
    ended, _, duration = reports[0]
    return Invocation(datetime.fromtimestamp(ended / 1000, UTC) - timedelta(milliseconds=duration), duration)


LOG_PAGE_LIMIT = 10_000


class LogEvent(NamedTuple):
    """One line a function logged: when the engine took it, from which stream, its text, and its
    fields when the line is one of the functions' structured (JSON) lines."""

    timestamp: int  # ms
    stream: str | None
    message: str
    fields: dict[str, Any] | None


def _fields(message: str) -> dict[str, Any] | None:
    try:
        line = json.loads(message)
    except ValueError:  # START, END and REPORT lines
        return None
    return line if isinstance(line, dict) else None


def function_logs(
    client: Any, function_name: str, since_ms: int = 0, containing: str | None = None
) -> list[LogEvent]:
    """Every line the function logged from `since_ms` on, or only those with `containing` in
    them; none when it never ran (it has no log group yet). AWS pages with nextToken; an engine
    that stops at the page limit without one is asked again from the last timestamp it gave."""
    asked: dict[str, Any] = {
        "logGroupName": names.log_group(function_name),
        "limit": LOG_PAGE_LIMIT,
        **({"filterPattern": f'"{containing}"'} if containing else {}),
    }
    events: list[dict[str, Any]] = []
    start = since_ms
    try:
        while True:
            response = client.filter_log_events(**asked, startTime=start)
            events += response["events"]
            while response.get("nextToken"):
                response = client.filter_log_events(**asked, startTime=start, nextToken=response["nextToken"])
                events += response["events"]
            if len(response["events"]) < LOG_PAGE_LIMIT or response["events"][-1]["timestamp"] == start:
                break
            start = response["events"][-1]["timestamp"]
    except client.exceptions.ResourceNotFoundException:
        return []
    return [
        LogEvent(event["timestamp"], event.get("logStreamName"), event["message"], _fields(event["message"]))
        for event in events
    ]


def api_key(config: StackConfig) -> str:
    """A key the HTTP function accepts in x-api-key (the first client's, when the parameter names
    several), read from SSM as the function reads it."""
    parameter = config.client("ssm").get_parameter(Name=config.api_key_parameter, WithDecryption=True)
    return next(iter(parse_api_keys(str(parameter["Parameter"]["Value"])).values()))
