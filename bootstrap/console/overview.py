"""The overview's figures, sampled in one background thread (the Watcher), so however many pages are open the stack is asked once: appointments by status, each queue's and DLQ's depth and the age of its oldest message, the outbox backlog, each function's invocations and errors, rows per schema."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.console.clients import SharedClients
from bootstrap.console.table import TableScan, scan_table
from bootstrap.stack.queries import (
    admin_connection,
    function_metrics,
    metric_query,
    outbox_backlog,
    queue_depth,
    schema_rows,
    stack_outputs,
)

SAMPLE_SECONDS = 2.0  # the overview's figures, read again this often


METRIC_MINUTES = 5


@dataclass(frozen=True)
class QueueFigures:
    name: str  # pe, cl, callback
    queue: str  # its resource name
    waiting: int
    in_flight: int
    dead_letters: int
    dead_letters_in_flight: int
    # The age of its oldest message, in seconds: CloudWatch's AWS/SQS ApproximateAgeOfOldestMessage,
    # the only place SQS gives it (reading a message to see it would count as a receive and push
    # it towards its DLQ). None where no datapoint is published (the Docker-free engine
    # publishes none; the map then shows the oldest pending appointment instead).
    age_seconds: float | None = None


@dataclass(frozen=True)
class FunctionFigures:
    short: str  # http, processor-pe, ...
    name: str
    invocations: int
    errors: int


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
    scan_seconds: float | None = None  # the scan's interval when `--scan-seconds` set it


AGE_MINUTES = 5  # the newest datapoint of the last minutes; SQS publishes one a minute


def queue_ages(cloudwatch: Any, queues: list[str], minutes: int = AGE_MINUTES) -> dict[str, float | None]:
    """Each queue (by name) -> the age in seconds of its oldest message, the newest datapoint of
    AWS/SQS ApproximateAgeOfOldestMessage (one GetMetricData call for all), or None without one."""
    now = datetime.now(UTC)
    queries = [
        metric_query(f"q{n}", "AWS/SQS", "ApproximateAgeOfOldestMessage", ("QueueName", queue), "Maximum")
        for n, queue in enumerate(queues)
    ]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - timedelta(minutes=minutes),
        EndTime=now,
        ScanBy="TimestampDescending",
    )
    newest: dict[str, float | None] = dict.fromkeys(queues)
    for result in answer["MetricDataResults"]:
        points = sorted(
            zip(result.get("Timestamps", []), result.get("Values", []), strict=False), reverse=True
        )
        if points:
            newest[queues[int(result["Id"][1:])]] = float(points[0][1])
    return newest


def function_names(outputs: dict[str, str]) -> list[str]:
    return [outputs[function.output] for function in names.FUNCTIONS]


class Watcher:
    """The overview's figures, sampled every SAMPLE_SECONDS in one thread while pages ask for
    them, and the table's scan as often as its own cost allows (SCAN_SHARE)."""

    def __init__(self, config: SharedClients, scan_seconds: float | None = None) -> None:
        self.config = config
        self.scan_seconds = scan_seconds  # the table scanned this often, if given (else `again_after`)
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
        try:
            ages = queue_ages(self.config.client("cloudwatch"), [f.queue for f in queues])
            queues = [dataclasses.replace(f, age_seconds=ages.get(f.queue)) for f in queues]
        except (BotoCoreError, ClientError) as error:
            problems.append(f"queue ages: {type(error).__name__}")
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
                self._next_scan = time.monotonic() + (self.scan_seconds or self.scan.again_after)
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
            self.scan_seconds,
        )
