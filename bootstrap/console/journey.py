"""One appointment's journey drawn as a waterfall: each hop of `make trace` with the time it spent in its queue and its function, beside the MySQL row it left."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymysql.cursors import DictCursor

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.console.clients import SharedClients
from bootstrap.ops import trace
from bootstrap.stack.queries import (
    admin_connection,
    invocation,
)


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
    journey: trace.Journey
    spans: list[Span]
    origin: float  # the first bar's start: 0, or earlier when the HTTP function's invocation began before the item's createdAt
    total: float
    mysql: dict[str, Any] | None


def _ms(at: datetime, accepted: datetime) -> float:
    return (at - accepted).total_seconds() * 1000


FLOW_ORDER = ("http", "reconciler", "processor", "callback")  # who hands the appointment to whom


def _flow_rank(stage: str, hop: trace.Hop) -> int:
    if hop.group is None:
        return -1  # a point: drawn where it happened, whatever its rank
    short = names.short_name(stage, hop.group.removeprefix(names.LOG_GROUP_PREFIX))
    return next((n for n, kind in enumerate(FLOW_ORDER) if short.startswith(kind)), len(FLOW_ORDER))


def waterfall(config: SharedClients, outputs: dict[str, str], journey: trace.Journey) -> Waterfall:
    """The journey's hops as bars: each function's invocation (from its log stream's START line
    and its REPORT duration) and the time between them, spent in a queue or on the bus."""
    logs = config.client("logs")
    accepted = journey.accepted
    spans: list[Span] = []
    seen: set[tuple[str, str]] = set()
    queue = outputs[names.queue_output(journey.country)].rsplit("/", 1)[-1]
    callback_queue = outputs[names.CALLBACK_QUEUE_URL].rsplit("/", 1)[-1]
    handed_over: float | None = None  # when the message was put where the next function reads it
    # In the flow's order, each function's lines in time order: a function logs its hand-over
    # once it is answered, so on a busy machine the next function's line can come first.
    for hop in sorted(journey.hops, key=lambda hop: (_flow_rank(config.stage, hop), hop.at)):
        at = _ms(hop.at, accepted)
        if hop.group is None or hop.stream is None:
            spans.append(Span("", hop.what, at, at, "point"))
            continue
        if (hop.group, hop.stream) in seen:
            spans.append(Span("", hop.what, at, at, "point"))
            continue
        seen.add((hop.group, hop.stream))
        function = hop.group.removeprefix(names.LOG_GROUP_PREFIX)
        short = names.short_name(config.stage, function)
        ran = invocation(logs, hop.group, hop.stream, hop.request_id)
        start, end = (
            (at, at)
            if ran is None
            else (_ms(ran.started, accepted), _ms(ran.started, accepted) + ran.duration_ms)
        )
        if ran is not None and start > at:
            # The engine stamps a REPORT line when it has read the invocation's output, on a busy
            # engine well after the end: the invocation, dated back from it, would begin after the
            # line it wrote. The line (what it handed over) is the last thing each function does,
            # so the bar ends there.
            start, end = at - ran.duration_ms, at
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


def mysql_row(config: SharedClients, journey: trace.Journey) -> dict[str, Any] | None:
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
