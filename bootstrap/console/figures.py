"""What the console shows, read through stack_queries, observe and redrive: the overview's figures
(sampled in one background thread, so however many pages are open the stack is asked once),
the appointments, one appointment's journey drawn as a waterfall, the dead letters with the
error their function logged, and the functions' log lines.

Only standard AWS APIs (CloudFormation, SQS, DynamoDB, CloudWatch and its logs, Lambda) and, on
the local kit, its MySQL admin connection: the same code reads a local engine and an AWS account.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pymysql.cursors import DictCursor

from bootstrap import names, observe
from bootstrap.config import KitConfig, StackConfig
from bootstrap.stack_queries import (
    NO_STATUS,
    admin_connection,
    events_since,
    function_metrics,
    invocation,
    outbox_backlog,
    queue_depth,
    schema_rows,
    stack_outputs,
    waiting_messages,
)

# Each call the console makes is short: a page that cannot be answered says so instead of hanging.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})
SAMPLE_SECONDS = 2.0  # the overview's figures, read again this often
# The table is read whole for the status counts and the newest appointments: at most this many
# items (the overview then says "at least"), at most a hundredth of the time, so the console
# never takes more than a small share of what it watches, and at least once a minute.
SCAN_ITEM_LIMIT = 10_000
SCAN_SHARE = 100
SCAN_MIN_SECONDS = 10.0
SCAN_MAX_SECONDS = 60.0  # however slow the scan, the counts are never older than this
NEWEST = 50  # appointments the list shows
METRIC_MINUTES = 5
DEAD_LETTER_ROUNDS = 5  # a DLQ page shows at most 50 messages (ten a receive)


class SharedClients:
    """A stack's settings whose boto3 clients are made once, with the console's short timeouts,
    and shared by the threads (boto3 clients are thread-safe; making one costs tens of ms)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.config, name)

    def client(self, service: str, **options: Any) -> Any:
        if options:
            return self.config.client(service, **options)
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.config.client(service, config=CLIENT_CONFIG)
            return self._clients[service]


@dataclass(frozen=True)
class QueueFigures:
    name: str  # pe, cl, callback
    queue: str  # its resource name
    waiting: int
    in_flight: int
    dead_letters: int
    dead_letters_in_flight: int


@dataclass(frozen=True)
class FunctionFigures:
    short: str  # http, processor-pe, ...
    name: str
    invocations: int
    errors: int


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

    @property
    def again_after(self) -> float:
        """When the table is scanned next, in seconds after this scan."""
        return min(SCAN_MAX_SECONDS, max(SCAN_MIN_SECONDS, SCAN_SHARE * self.seconds))


@dataclass(frozen=True)
class Overview:
    at: datetime
    seconds: float  # how long the sample took
    queues: list[QueueFigures]
    functions: list[FunctionFigures]
    outbox: int | None
    rows: dict[str, dict[str, int]] | None  # None: no MySQL admin connection (AWS)
    scan: TableScan | None
    problems: list[str] = field(default_factory=list)


def _plain(value: Any) -> str:
    return str(next(iter(value.values()))) if isinstance(value, dict) and value else ""


# The scan reads only what the counts and the search need; the newest appointments' other
# attributes are read afterwards, by their keys.
SCAN_PROJECTION = "insuredId, appointmentId, #s"


def scan_table(config: StackConfig, table_name: str) -> TableScan:
    began = time.monotonic()
    dynamodb = config.client("dynamodb")
    statuses: Counter[str] = Counter()
    insured_of: dict[str, str] = {}
    complete = True
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table_name, ProjectionExpression=SCAN_PROJECTION, ExpressionAttributeNames={"#s": "status"}
    ):
        for item in page["Items"]:
            statuses[_plain(item.get("status")) or NO_STATUS] += 1
            insured_of[_plain(item.get("appointmentId"))] = _plain(item.get("insuredId"))
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


def function_names(outputs: dict[str, str]) -> list[str]:
    return [outputs[function.output] for function in names.FUNCTIONS]


class Watcher:
    """The overview's figures, sampled every SAMPLE_SECONDS in one thread while pages ask for
    them, and the table's scan as often as its own cost allows (SCAN_SHARE)."""

    def __init__(self, config: SharedClients) -> None:
        self.config = config
        self.outputs = stack_outputs(config)  # type: ignore[arg-type]
        self.latest: Overview | None = None
        self.scan: TableScan | None = None
        self._next_scan = 0.0
        self._asked = time.monotonic()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="console-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def overview(self, wait: float = 10.0) -> Overview | None:
        """The latest sample; the first one is waited for."""
        self._asked = time.monotonic()
        self._wake.set()
        deadline = time.monotonic() + wait
        while self.latest is None and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.latest

    def _run(self) -> None:
        while not self._stop.is_set():
            # idle when no page has asked for a while: the console then reads nothing
            if time.monotonic() - self._asked > 30:
                self._wake.wait(timeout=5)
                self._wake.clear()
                continue
            self.latest = self.sample()
            self._stop.wait(SAMPLE_SECONDS)

    def sample(self) -> Overview:
        began = time.monotonic()
        problems: list[str] = []
        sqs = self.config.client("sqs")
        outputs = self.outputs
        queues = []
        for pair in names.QUEUES.values():
            try:
                work = queue_depth(sqs, outputs[pair.queue_output])
                dead = queue_depth(sqs, outputs[pair.dead_letter_output])
            except (BotoCoreError, ClientError) as error:
                problems.append(f"queue {pair.name}: {type(error).__name__}")
                continue
            queues.append(
                QueueFigures(
                    pair.name,
                    outputs[pair.queue_output].rsplit("/", 1)[-1],
                    work.waiting,
                    work.in_flight,
                    dead.waiting,
                    dead.in_flight,
                )
            )
        functions = []
        try:
            metrics = function_metrics(self.config, function_names(outputs), METRIC_MINUTES)  # type: ignore[arg-type]
            functions = [
                FunctionFigures(
                    names.short_name(self.config.stage, name),
                    name,
                    figures["Invocations"],
                    figures["Errors"],
                )
                for name, figures in metrics.items()
            ]
        except (BotoCoreError, ClientError) as error:
            problems.append(f"CloudWatch metrics: {type(error).__name__}")
        outbox: int | None = None
        try:
            outbox = outbox_backlog(self.config, outputs[names.TABLE_NAME])  # type: ignore[arg-type]
        except (BotoCoreError, ClientError) as error:
            problems.append(f"outbox: {type(error).__name__}")
        rows = None
        if isinstance(self.config.config, KitConfig):
            try:
                with admin_connection(self.config.config, connect_timeout=2, read_timeout=5) as connection:
                    rows = schema_rows(connection)
            except Exception as error:
                problems.append(f"MySQL: {type(error).__name__}")
        if time.monotonic() >= self._next_scan:
            try:
                self.scan = scan_table(self.config, outputs[names.TABLE_NAME])  # type: ignore[arg-type]
                self._next_scan = time.monotonic() + self.scan.again_after
            except (BotoCoreError, ClientError) as error:
                problems.append(f"table scan: {type(error).__name__}")
        return Overview(
            datetime.now(UTC),
            time.monotonic() - began,
            queues,
            functions,
            outbox,
            rows,
            self.scan,
            problems,
        )


# ---------------------------------------------------------------- appointments


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


# ---------------------------------------------------------------- an appointment's journey


@dataclass(frozen=True)
class Span:
    """One bar of the waterfall: where the appointment was, from `start` to `end` (ms after it
    was accepted)."""

    lane: str  # function, queue
    what: str
    start: float
    end: float
    kind: str  # function, queue, failed, point

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class Waterfall:
    journey: observe.Journey
    spans: list[Span]
    origin: float  # the first bar's start: 0, or earlier when the HTTP function's invocation began before the item's createdAt
    total: float
    mysql: dict[str, Any] | None


def _ms(at: datetime, accepted: datetime) -> float:
    return (at - accepted).total_seconds() * 1000


def waterfall(config: SharedClients, outputs: dict[str, str], journey: observe.Journey) -> Waterfall:
    """The journey's hops as bars: each function's invocation (from its log stream's START line
    and its REPORT duration) and the time between them, spent in a queue or on the bus."""
    logs = config.client("logs")
    accepted = journey.accepted
    spans: list[Span] = []
    seen: set[tuple[str, str]] = set()
    queue = outputs[names.queue_output(journey.country)].rsplit("/", 1)[-1]
    callback_queue = outputs[names.CALLBACK_QUEUE_URL].rsplit("/", 1)[-1]
    handed_over: float | None = None  # when the message was put where the next function reads it
    for hop in journey.hops:
        at = _ms(hop.at, accepted)
        if hop.group is None or hop.stream is None:
            spans.append(Span("", hop.what, at, at, "point"))
            continue
        if (hop.group, hop.stream) in seen:
            spans.append(Span("", hop.what, at, at, "point"))
            continue
        seen.add((hop.group, hop.stream))
        function = hop.group.removeprefix("/aws/lambda/")
        short = names.short_name(config.stage, function)
        ran = invocation(logs, hop.group, hop.stream)
        start, end = (
            (at, at)
            if ran is None
            else (_ms(ran.started, accepted), _ms(ran.started, accepted) + ran.duration_ms)
        )
        # A function logs what it handed over once the hand-over answered: the next function may
        # have started first, and then the wait is nil.
        if short.startswith("processor") and handed_over is not None:
            spans.append(Span(queue, f"waiting in {queue}", min(handed_over, start), start, "queue"))
        if short == "callback" and handed_over is not None:
            waited = min(handed_over, start)
            spans.append(
                Span(callback_queue, f"on the bus, then in {callback_queue}", waited, start, "queue")
            )
        spans.append(Span(short, hop.what, start, end, "failed" if hop.failed else "function"))
        handed_over = at if not hop.failed else end
    spans.sort(key=lambda span: (span.start, span.end))
    origin = min((span.start for span in spans), default=0.0)
    total = max((span.end for span in spans), default=0.0)
    return Waterfall(journey, spans, origin, total, mysql_row(config, journey))


def mysql_row(config: SharedClients, journey: observe.Journey) -> dict[str, Any] | None:
    """The appointment's row in its country's schema (or its rejection), as the admin reads it."""
    if not isinstance(config.config, KitConfig):
        return None
    schema = names.SCHEMAS[journey.country]
    connection = admin_connection(config.config, connect_timeout=2, read_timeout=5)
    with connection, connection.cursor(DictCursor) as cursor:
        for table_name in ("appointments", "appointment_rejections"):
            cursor.execute(
                f"SELECT * FROM {schema}.{table_name} WHERE appointment_id = %s",  # noqa: S608
                (journey.appointment["appointmentId"],),
            )
            row = cursor.fetchone()
            if row:
                return {"table": f"{schema}.{table_name}", **{k: str(v) for k, v in row.items()}}
    return None


# ---------------------------------------------------------------- dead letters


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    appointment_id: str
    receives: str
    age_seconds: float
    error: str


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    queue: str
    dead_letter_queue: str
    letters: list[DeadLetter]
    bounded: bool  # more may wait than the page read


def _appointment_of(body: str) -> str:
    """The appointment id a message carries: in its body (SNS's raw message) or its detail
    (EventBridge's event)."""
    try:
        message = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(message, dict):
        return ""
    detail = message.get("detail")
    found = message.get("appointmentId") or (
        detail.get("appointmentId") if isinstance(detail, dict) else None
    )
    return str(found or "")


def consumer_of(pair: names.QueuePair) -> str:
    """The output naming the function that reads the queue."""
    if pair.name == names.CALLBACK_QUEUE:
        return names.CALLBACK_FUNCTION_NAME
    return names.processor_function_output(pair.name)


def errors_logged(config: SharedClients, function: str, since_ms: int) -> dict[str, str]:
    """Appointment id -> the last error the function logged for it since then."""
    client = config.client("logs")
    try:
        events = client.filter_log_events(
            logGroupName=f"/aws/lambda/{function}", startTime=since_ms, filterPattern='"exception_name"'
        )["events"]
    except client.exceptions.ResourceNotFoundException:
        return {}
    errors: dict[str, str] = {}
    for event in events:
        try:
            line = json.loads(event["message"])
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("appointment_id"):
            name = str(line.get("exception_name", ""))
            lines = str(line.get("exception", "")).strip().splitlines()
            # a traceback's last line: `module.Name: what it says`
            said = lines[-1].split(": ", 1)[-1] if lines else ""
            errors[str(line["appointment_id"])] = f"{name}: {said}"
    return errors


def dead_letters(config: SharedClients, outputs: dict[str, str]) -> list[DeadLetterQueue]:
    sqs = config.client("sqs")
    found = []
    now = time.time()
    for pair in names.QUEUES.values():
        url = outputs[pair.dead_letter_output]
        depth = queue_depth(sqs, url)
        messages = waiting_messages(sqs, url, rounds=DEAD_LETTER_ROUNDS) if depth.total else []
        oldest = min((int(m["Attributes"].get("SentTimestamp", now * 1000)) for m in messages), default=0)
        errors = errors_logged(config, outputs[consumer_of(pair)], oldest - 60_000) if messages else {}
        letters = []
        for message in sorted(messages, key=lambda m: int(m["Attributes"].get("SentTimestamp", 0))):
            appointment_id = _appointment_of(message["Body"])
            letters.append(
                DeadLetter(
                    message["MessageId"],
                    appointment_id,
                    str(message["Attributes"].get("ApproximateReceiveCount", "")),
                    now - int(message["Attributes"].get("SentTimestamp", now * 1000)) / 1000,
                    errors.get(appointment_id, "no error logged for it in the last runs"),
                )
            )
        found.append(
            DeadLetterQueue(
                pair.name,
                outputs[pair.queue_output].rsplit("/", 1)[-1],
                url.rsplit("/", 1)[-1],
                letters,
                bounded=depth.total > len(letters),
            )
        )
    return found


# ---------------------------------------------------------------- log lines

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class LogLine:
    at_ms: int
    function: str
    level: str
    message: str
    keys: str
    correlation_id: str


def log_lines(
    config: SharedClients,
    outputs: dict[str, str],
    since_ms: int,
    correlation_id: str = "",
    level: str = "",
    limit: int = 200,
) -> list[LogLine]:
    """The functions' JSON lines since then, oldest first (the newest `limit`), filtered."""
    client = config.client("logs")
    lines = []
    for function in names.FUNCTIONS:
        name = outputs[function.output]
        group = f"/aws/lambda/{name}"
        try:
            if correlation_id:
                events = client.filter_log_events(
                    logGroupName=group, startTime=since_ms, filterPattern=f'"{correlation_id}"'
                )["events"]
            else:
                events = events_since(client, group, since_ms)
        except client.exceptions.ResourceNotFoundException:
            continue
        short = names.short_name(config.stage, name)
        for event in events:
            try:
                line = json.loads(event["message"])
            except ValueError:
                continue
            if not isinstance(line, dict):
                continue
            if level and line.get("level") != level:
                continue
            if correlation_id and line.get("correlation_id") != correlation_id:
                continue
            keys = " ".join(
                f"{k}={line[k]}" for k in observe.SHOWN_KEYS if k in line and k != "correlation_id"
            )
            lines.append(
                LogLine(
                    int(event["timestamp"]),
                    short,
                    str(line.get("level", "")),
                    str(line.get("message", "")),
                    keys,
                    str(line.get("correlation_id", "")),
                )
            )
    lines.sort(key=lambda line: line.at_ms)
    return lines[-limit:]
