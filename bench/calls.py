"""The AWS requests one appointment costs, counted from what the engine records.

While a chain's counted phase runs, the engine records every API call made to it (its CloudTrail
recording, switched on through `POST /_ministack/config` for that phase only: it costs the engine
CPU, so the timed phases run without it), each with its parameters; its log has a line for each
batch its SQS pollers hand to a function (a receive, then a delete of what the function did not
report failed); each function's CloudWatch Logs group has what the function wrote, with a
`REPORT` line per invocation giving its duration. From these, for the chain's resources only (its
table, topic, bus, parameters, functions), and without the benchmark's own calls (made with the
kit's key, not the functions'):

- requests by service and operation, split into the hot path (what the functions call for an
  appointment on its way from POST to completed, and the messages SNS and EventBridge send to the
  queues for it), the pollers' (the receives and deletes of the event source mappings, which vary
  with how many messages a batch finds), the cached reads (SSM, once per worker and cache period)
  and the reconciler's (a scheduled run, not an appointment's);
- DynamoDB write units, from the size of each item as it was written (the indexes' writes
  counted too), and read units (the reconciler's sweep reads each appointment once, in a batch:
  counted for the phase's own appointments only);
- each function's invocations and mean duration, and the bytes its log lines take as CloudWatch
  Logs counts them (the message and 26 bytes per event).
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from appointments.adapters.dynamodb_items import CREATED_IN, CREATED_INDEX, OUTBOX_ATTRIBUTE, OUTBOX_INDEX
from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.engines import ministack

FUNCTIONS_KEY = "000000000000"  # the access key the engine gives the functions; the kit's is "test"
LOG_EVENT_OVERHEAD = 26  # bytes CloudWatch Logs adds to each event's message when it meters ingestion
ESM_LINE = re.compile(
    r"ESM: Lambda (?P<function>\S+) (?:processed (?P<count>\d+) SQS messages from \S+"
    r"(?: \((?P<failed>\d+) partial failures\))?|failed processing SQS batch)"
)
REPORT_DURATION = re.compile(r"^REPORT .*?\tDuration: (?P<ms>[\d.]+) ms")
HOT, POLLERS, CACHED, RECONCILER = "hot path", "pollers", "cached reads", "reconciler"
PARTS = (HOT, POLLERS, CACHED, RECONCILER)


@dataclass(frozen=True)
class ChainResources:
    """What belongs to one chain: its calls are told apart from the other chains' by these."""

    tables: frozenset[str]
    table: str
    sweep_table: str  # the reconciler's: where each country's sweep reached
    topic: str
    bus: str
    parameter_prefixes: tuple[str, ...]
    functions: dict[str, str]  # function name -> its output key (names.FUNCTIONS)
    memory_mb: dict[str, int]  # function name -> its MemorySize

    @classmethod
    def of(cls, config: KitConfig, outputs: dict[str, str]) -> ChainResources:
        functions = {outputs[f.output]: f.output for f in names.FUNCTIONS}
        lambda_client = config.client("lambda")
        configurations = {
            name: lambda_client.get_function_configuration(FunctionName=name) for name in functions
        }
        memory = {name: int(c["MemorySize"]) for name, c in configurations.items()}
        tables = {outputs[names.TABLE_NAME]}
        for c in configurations.values():  # the idempotency table is named in the HTTP function's settings
            variables = c.get("Environment", {}).get("Variables", {})
            tables |= {variables[v] for v in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME") if v in variables}
        return cls(
            tables=frozenset(tables | {outputs[names.SWEEP_TABLE_NAME]}),
            table=outputs[names.TABLE_NAME],
            sweep_table=outputs[names.SWEEP_TABLE_NAME],
            topic=outputs[names.TOPIC_ARN],
            bus=outputs[names.EVENT_BUS_NAME],
            parameter_prefixes=(config.db_parameters_prefix, config.api_key_parameter),
            functions=functions,
            memory_mb=memory,
        )


def _engine_config(config: KitConfig, settings: dict[str, str]) -> None:
    request = urllib.request.Request(  # noqa: S310 (the engine's own URL)
        f"{config.endpoint}/_ministack/config",
        data=json.dumps(settings).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        answer.read()


@dataclass
class Recording:
    """The window of one counted phase: the engine's API calls recorded, its log's extent."""

    config: KitConfig
    started: float = 0.0
    ended: float = 0.0
    log_from: int = 0
    log_to: int = 0

    def __enter__(self) -> Recording:
        self.log_from = ministack.LOG_FILE.stat().st_size if ministack.LOG_FILE.exists() else 0
        _engine_config(self.config, {"cloudtrail._recording_enabled": "true"})
        self.started = time.time()
        return self

    def __exit__(self, *_: object) -> None:
        time.sleep(1.5)  # the last batch's delete, and the last log lines, come just after its completion
        self.ended = time.time()
        _engine_config(self.config, {"cloudtrail._recording_enabled": "false"})
        self.log_to = ministack.LOG_FILE.stat().st_size if ministack.LOG_FILE.exists() else 0

    def engine_log(self) -> str:
        if not ministack.LOG_FILE.exists():
            return ""
        with ministack.LOG_FILE.open("rb") as log:
            log.seek(self.log_from)
            return log.read(max(0, self.log_to - self.log_from)).decode(errors="replace")

    def api_calls(self) -> Iterator[dict[str, Any]]:
        """Every call the engine recorded in the window, oldest last (it pages newest first)."""
        trail = self.config.client("cloudtrail")
        end = self.ended
        while True:
            events = trail.lookup_events(StartTime=self.started, EndTime=end, MaxResults=50)["Events"]
            yield from events
            if len(events) < 50:
                return
            end = events[-1]["EventTime"].timestamp() - 1e-6


def item_size(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB meters it: each attribute's name and value, in bytes."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict[str, Any]) -> int:
    kind, inner = next(iter(value.items()))
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return math.ceil(len(str(inner).lstrip("-").replace(".", "").lstrip("0") or "0") / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(len(k.encode()) + _value_size(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in inner)
    return sum(len(str(v).encode()) for v in inner)  # sets


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


@dataclass
class Count:
    """What one counted phase cost, in totals (`per_appointment` divides them)."""

    appointments: int
    requests: dict[str, Counter[str]] = field(default_factory=lambda: {part: Counter() for part in PARTS})
    # part -> "SNS" / "EventBridge" -> messages or events published (a batch's entries each count)
    published: dict[str, Counter[str]] = field(default_factory=lambda: {part: Counter() for part in PARTS})
    write_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # part -> WRU
    read_units: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    item_bytes: list[int] = field(default_factory=list)  # each item as the POST wrote it
    invocations: Counter[str] = field(default_factory=Counter)  # function output key -> count
    duration_ms: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    billed_gb_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    log_bytes: Counter[str] = field(default_factory=Counter)  # function output key -> bytes

    def per_appointment(self) -> dict[str, Any]:
        n = self.appointments or 1

        def each(counter: dict[str, float] | Counter[str]) -> dict[str, float]:
            return {key: round(value / n, 3) for key, value in sorted(counter.items())}

        hot_log = sum(v for k, v in self.log_bytes.items() if k != names.RECONCILER_FUNCTION_NAME)
        return {
            "appointments": self.appointments,
            "requests": {part: each(counter) for part, counter in self.requests.items()},
            "hot_path_requests": round(sum(self.requests[HOT].values()) / n, 3),
            "published": {part: each(counter) for part, counter in self.published.items()},
            "dynamodb_write_units": each(self.write_units),
            "dynamodb_read_units": each(self.read_units),
            "item_bytes_median": sorted(self.item_bytes)[len(self.item_bytes) // 2]
            if self.item_bytes
            else None,
            "lambda": {
                key: {
                    "invocations": round(self.invocations[key] / n, 3),
                    "mean_ms": round(self.duration_ms[key] / self.invocations[key], 1)
                    if self.invocations[key]
                    else None,
                    "gb_s": round(self.billed_gb_s[key] / n, 6),
                }
                for key in sorted(self.invocations)
            },
            "log_bytes": round(hot_log / n, 1),
            "reconciler_log_bytes": round(self.log_bytes[names.RECONCILER_FUNCTION_NAME] / n, 1),
        }


def _operation(event: dict[str, Any], parameters: dict[str, Any]) -> str:
    name = str(event["EventName"])
    if name.startswith(("POST.", "GET.")):  # a query-protocol call: the action is in the body
        name = str(parameters.get("Action", name))
    return name


def _service(event: dict[str, Any]) -> str:
    return {
        "dynamodb": "DynamoDB",
        "sns": "SNS",
        "sqs": "SQS",
        "events": "EventBridge",
        "ssm": "SSM",
        "logs": "CloudWatch Logs",
        "kms": "KMS",
    }.get(str(event["EventSource"]).split(".", 1)[0], str(event["EventSource"]))


def _belongs(service: str, parameters: dict[str, Any], chain: ChainResources) -> bool:
    if service == "DynamoDB":
        batch = parameters.get("RequestItems") or {}
        return parameters.get("TableName") in chain.tables or any(table in chain.tables for table in batch)
    if service == "SNS":
        return parameters.get("TopicArn") == chain.topic
    if service == "EventBridge":
        return any(entry.get("EventBusName") == chain.bus for entry in parameters.get("Entries", []))
    if service == "SSM":
        named = str(parameters.get("Path") or parameters.get("Name") or "")
        return named.startswith(chain.parameter_prefixes)
    return False


def _by_the_reconciler(
    service: str, operation: str, parameters: dict[str, Any], chain: ChainResources
) -> bool:
    """The reconciler's calls: its sweep (the created index's pages, their items read in a
    batch, its mark in the sweep table), its outbox query, its writes into the outbox, its batch
    publish."""
    if service != "DynamoDB":
        return operation == "PublishBatch"
    if parameters.get("IndexName") in (OUTBOX_INDEX, CREATED_INDEX) or operation == "BatchGetItem":
        return True
    if parameters.get("TableName") == chain.sweep_table:
        return True
    return operation == "UpdateItem" and str(parameters.get("UpdateExpression", "")).startswith("SET #outbox")


def count(recording: Recording, chain: ChainResources, appointments: int, marker: str = "") -> Count:
    """What the phase cost. With `marker` (a string every appointment of the phase carries, its
    insured ids' prefix), a call of the hot path counts only when its parameters hold it, so
    traffic beside the phase on the same stack (a test session's) is left out; the pollers'
    batches and the log lines cannot be told apart that way and count whole."""
    result = Count(appointments)
    marked: dict[str, int] = {}  # items in the outbox index (key -> size), from their PutItem
    sizes: dict[str, int] = {}
    calls = sorted(recording.api_calls(), key=lambda e: e["EventTime"])
    for event in calls:
        if event.get("AccessKeyId") != FUNCTIONS_KEY:
            continue  # the benchmark's own reads, and anything else made with the kit's key
        detail = json.loads(event["CloudTrailEvent"])
        parameters = detail.get("requestParameters") or {}
        service, operation = _service(event), _operation(event, parameters)
        if not _belongs(service, parameters, chain):
            continue
        part = RECONCILER if _by_the_reconciler(service, operation, parameters, chain) else HOT
        if service in ("SSM", "KMS"):
            part = CACHED
        if part == HOT and marker and marker not in json.dumps(parameters):
            continue
        result.requests[part][f"{service} {operation}"] += 1
        if operation in ("Publish", "PublishBatch", "PutEvents"):
            entries = parameters.get("Entries") or parameters.get("PublishBatchRequestEntries")
            batch = len(entries) if isinstance(entries, list) else _form_entries(parameters)
            result.published[part][service] += batch or 1
        if service == "DynamoDB":
            _dynamodb_units(result, part, operation, parameters, marked, sizes, marker)
    _sqs_from_engine_log(result, recording.engine_log(), chain)
    _logs(result, recording, chain)
    return result


def _form_entries(parameters: dict[str, Any]) -> int:
    """A query-protocol batch's entries (PublishBatchRequestEntries.member.N.Id)."""
    return sum(
        1 for name in parameters if name.startswith("PublishBatchRequestEntries.") and name.endswith(".Id")
    )


def _dynamodb_units(
    result: Count,
    part: str,
    operation: str,
    parameters: dict[str, Any],
    marked: dict[str, int],
    sizes: dict[str, int],
    marker: str = "",
) -> None:
    """A call's write or read units, the indexes' writes included: the created index (keys only,
    an entry of ~100 bytes) is written when an item carrying `createdIn` is put, never by an
    update (no key or projected attribute of it changes); the outbox index (all attributes) by
    any write to an item in it, and by the write that puts it there or takes it out."""
    key = json.dumps(parameters.get("Key") or {}, sort_keys=True)
    if operation == "PutItem":
        item = parameters.get("Item", {})
        size = item_size(item)
        key = json.dumps({k: item[k] for k in ("insuredId", "appointmentId") if k in item}, sort_keys=True)
        sizes[key] = size
        if "appointmentId" in item:
            result.item_bytes.append(size)
        result.write_units[part] += _units(size, 1024)
        if CREATED_IN in item:  # the created index's entry
            result.write_units[part] += 1
        if OUTBOX_ATTRIBUTE in item:  # the sparse outbox index holds it: one more write, in the index
            marked[key] = size
            result.write_units[part] += _units(size, 1024)
    elif operation in ("UpdateItem", "DeleteItem"):
        size = sizes.get(key, 1024)
        result.write_units[part] += _units(size, 1024)
        expression = str(parameters.get("UpdateExpression", ""))
        in_outbox = OUTBOX_ATTRIBUTE in (parameters.get("ExpressionAttributeNames") or {}).values()
        if key in marked:  # the index's copy is updated, or removed with the mark
            result.write_units[part] += _units(marked[key], 1024)
            if (in_outbox and "REMOVE" in expression) or operation == "DeleteItem":
                del marked[key]
        elif in_outbox and expression.startswith("SET #outbox"):  # put in the outbox: its index's copy
            marked[key] = size
            result.write_units[part] += _units(size, 1024)
    elif operation in ("TransactWriteItems",):
        result.write_units[part] += 2 * len(parameters.get("TransactItems", []))
    elif operation == "BatchGetItem":  # eventually consistent, each item under 4 KB: half a unit each
        keys = [k for table in (parameters.get("RequestItems") or {}).values() for k in table.get("Keys", [])]
        ours = [k for k in keys if not marker or marker in json.dumps(k)]
        result.read_units[part] += 0.5 * len(ours)
    elif operation in ("GetItem", "Query", "Scan"):
        consistent = bool(parameters.get("ConsistentRead"))
        result.read_units[part] += 1 if consistent else 0.5  # at least: one 4 KB read


def _sqs_from_engine_log(result: Count, log: str, chain: ChainResources) -> None:
    """Each batch a poller handed a function: one receive, and one delete unless all failed."""
    for line in log.splitlines():
        found = ESM_LINE.search(line)
        if not found or found["function"] not in chain.functions:
            continue
        result.requests[POLLERS]["SQS ReceiveMessage"] += 1
        if found["count"] is None:
            continue  # the whole batch failed: nothing deleted, all received again later
        delivered = int(found["count"])
        failed = int(found["failed"] or 0)
        result.requests[HOT]["SQS SendMessage (SNS and EventBridge deliveries)"] += delivered
        if delivered > failed:
            result.requests[POLLERS]["SQS DeleteMessageBatch"] += 1


def _logs(result: Count, recording: Recording, chain: ChainResources) -> None:
    logs = recording.config.client("logs")
    for function, output in chain.functions.items():
        pages = logs.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function}",
            startTime=int(recording.started * 1000),
            endTime=int(recording.ended * 1000),
        )
        try:
            events = [event for page in pages for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            continue
        for event in events:
            message = event["message"]
            result.log_bytes[output] += len(message.encode()) + LOG_EVENT_OVERHEAD
            duration = REPORT_DURATION.match(message)
            if duration:
                ms = float(duration["ms"])
                result.invocations[output] += 1
                result.duration_ms[output] += ms
                result.billed_gb_s[output] += math.ceil(ms) / 1000 * chain.memory_mb[function] / 1024
