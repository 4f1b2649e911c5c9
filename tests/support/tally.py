"""Counts that a doubling would raise, for the tests that claim "once".

A count on a primary key (`COUNT(*) ... WHERE appointment_id IN (...)`) can never exceed the
number of ids, so it only sees a loss. These count what a repeat would multiply: the functions'
log lines (one per delivery the processors took and per event the callback took), and the MySQL
rows and rejections of an insured or of a slot (found by a column that is not unique, in both
schemas). The DLQs' depths are in tests/support/counts.py.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import pymysql

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.stack import warm
from bootstrap.stack.queries import function_logs
from tests.support.polling import DeadlineExceeded, wait_for

TABLES = ("appointments", "appointment_rejections")

PROCESSED = "appointment processed"
FAILED = "appointment failed, to be retried"
SETTLED = "appointment settled"
SETTLED_ALREADY = "appointment was settled already"
# A delivery that found its outcome stored by an earlier one (it announces that outcome again).
STORED_BEFORE = ", stored before"


def now_ms() -> int:
    """A start for reading logs, a second early: the engine stamps lines with the function's clock."""
    return int(time.time() * 1000) - 1000


def outputs_for(kit_config: KitConfig, api_url: str) -> dict[str, str]:
    """The outputs of the stack that serves `api_url`: the e2e tests run on two stages."""
    cfn = kit_config.client("cloudformation")
    for described in cfn.describe_stacks()["Stacks"]:
        outputs = {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}
        if names.API_ID in outputs and kit_config.api_url(outputs) == api_url.rstrip("/"):
            return outputs
    raise AssertionError(f"no stack serves {api_url}")


def log_lines(kit_config: KitConfig, function: str, since_ms: int) -> list[dict[str, Any]]:
    """The function's structured log lines from `since_ms` on (none when it never ran)."""
    return [
        e.fields for e in function_logs(kit_config.client("logs"), function, since_ms) if e.fields is not None
    ]


@dataclass(frozen=True)
class Tally:
    """What the functions logged for some appointments, each list in the order it was logged."""

    # per appointment: the outcome of each delivery a processor took ("scheduled", "rejected",
    # either followed by STORED_BEFORE for a repeated delivery); each was announced on the bus
    outcomes: dict[str, list[str]]
    failures: dict[str, list[int]]  # per appointment: the receive count of each failed attempt
    callbacks: dict[str, list[str]]  # per appointment: one line per event the callback took

    @property
    def announced(self) -> Counter[str]:
        """Events the processors put on the bus, per appointment."""
        return Counter({i: len(found) for i, found in self.outcomes.items()})

    @property
    def events_taken(self) -> Counter[str]:
        """Events that reached the callback, per appointment (settled, or settled already)."""
        return Counter({i: len(found) for i, found in self.callbacks.items()})

    @property
    def status_changes(self) -> Counter[str]:
        """Events that changed the appointment's status, per appointment."""
        return Counter({i: found.count(SETTLED) for i, found in self.callbacks.items()})

    def summary(self) -> str:
        return (
            f"processor outcomes {dict(Counter(o for found in self.outcomes.values() for o in found))}, "
            f"failed attempts {sum(map(len, self.failures.values()))}, "
            f"events to the callback {sum(self.events_taken.values())} "
            f"({sum(self.status_changes.values())} changed a status)"
        )


def tally(kit_config: KitConfig, outputs: dict[str, str], since_ms: int, ids: Iterable[str]) -> Tally:
    wanted = set(ids)
    outcomes: dict[str, list[str]] = {i: [] for i in wanted}
    failures: dict[str, list[int]] = {i: [] for i in wanted}
    callbacks: dict[str, list[str]] = {i: [] for i in wanted}
    processed = [
        line
        for country in names.COUNTRIES
        for line in log_lines(kit_config, outputs[names.processor_function_output(country)], since_ms)
    ]
    for line in sorted(processed, key=lambda line: str(line.get("timestamp"))):
        appointment_id = line.get("appointment_id")
        if appointment_id not in wanted:
            continue
        if line.get("message") == PROCESSED:
            repeated = STORED_BEFORE if line.get("stored_before") else ""
            outcomes[appointment_id].append(f"{line.get('outcome')}{repeated}")
        elif line.get("message") == FAILED:
            failures[appointment_id].append(int(line.get("receive_count", 0)))
    for line in log_lines(kit_config, outputs[names.CALLBACK_FUNCTION_NAME], since_ms):
        if line.get("appointment_id") in wanted and line.get("message") in (SETTLED, SETTLED_ALREADY):
            callbacks[line["appointment_id"]].append(line["message"])
    return Tally(outcomes, failures, callbacks)


NUDGE_AFTER_SECONDS = 3.0
T = TypeVar("T")
QUEUE_CONSUMERS = (
    names.CALLBACK_FUNCTION_NAME,
    *(names.processor_function_output(c) for c in names.COUNTRIES),
)


def flush_late_lines(
    kit_config: KitConfig, outputs: dict[str, str], which: Iterable[str] = QUEUE_CONSUMERS
) -> None:
    """ministack 1.5.33 ends an invocation's log once its worker has been quiet for 5 ms after
    answering; a line written later (a busy engine reads the pipe late) goes to that worker's
    next invocation, so an idle worker keeps its last lines to itself. An invocation that touches
    no data, to every worker of the functions named by `which` (stack outputs; as many at once as
    `make up` starts), moves them into the log."""
    functions = {outputs[f.output]: f for f in names.FUNCTIONS if f.output in set(which)}
    warm.warm(kit_config.client("lambda"), functions)


def wait_nudging(
    probe: Callable[[], T | None], nudge: Callable[[], None], *, timeout: float, describe: str
) -> T:
    """`wait_for`, calling `nudge` every NUDGE_AFTER_SECONDS while `probe` finds nothing."""
    last = [time.monotonic()]

    def nudged() -> T | None:
        found = probe()
        if (found is None or found is False) and time.monotonic() - last[0] > NUDGE_AFTER_SECONDS:
            nudge()
            last[0] = time.monotonic()
        return found

    return wait_for(nudged, timeout=timeout, interval=0.25, describe=describe)


def wait_logged(
    kit_config: KitConfig, outputs: dict[str, str], appointment_id: str, which: Iterable[str], timeout: float
) -> None:
    """Until each function named by `which` has logged a line about the appointment, nudging their
    workers every few seconds (`flush_late_lines`)."""
    wanted = list(which)

    def all_logged() -> bool:
        return all(
            any(
                line.get("appointment_id") == appointment_id
                for line in log_lines(kit_config, outputs[output], now_ms() - 600_000)
            )
            for output in wanted
        )

    wait_nudging(
        all_logged,
        lambda: flush_late_lines(kit_config, outputs, wanted),
        timeout=timeout,
        describe=f"every function's log lines of {appointment_id}",
    )


def wait_all_told(
    kit_config: KitConfig, outputs: dict[str, str], since_ms: int, ids: Iterable[str], timeout: float
) -> Tally:
    """The tally once every appointment has a processor outcome and its settling line from the
    callback, and the callback has taken at least as many events as the processors announced: a
    doubled event is then in the count, not still on its way."""
    wanted = set(ids)
    last: list[Tally] = []

    def told() -> Tally | None:
        found = tally(kit_config, outputs, since_ms, wanted)
        last[:] = [found]
        # each appointment's settling line, not just any callback line: when a repeated event's
        # "settled already" comes first, the settling one may still wait in an idle worker
        every_one = all(found.outcomes[i] and SETTLED in found.callbacks[i] for i in wanted)
        caught_up = sum(found.events_taken.values()) >= sum(found.announced.values())
        return found if every_one and caught_up else None

    try:
        return wait_nudging(
            told,
            lambda: flush_late_lines(kit_config, outputs),
            timeout=timeout,
            describe=f"the logs of {len(wanted)} appointments",
        )
    except DeadlineExceeded as error:
        if not last:
            raise
        found = last[0]
        no_outcome = sorted(i for i in wanted if not found.outcomes[i])
        no_callback = sorted(i for i in wanted if SETTLED not in found.callbacks[i])
        behind = {
            i: (found.announced[i], found.events_taken[i])
            for i in wanted
            if found.events_taken[i] < found.announced[i]
        }
        raise DeadlineExceeded(
            f"{error}; {len(no_outcome)} with no processor outcome {no_outcome[:5]}, "
            f"{len(no_callback)} with no settling line from the callback {no_callback[:5]}, "
            f"{len(behind)} announced more often than the callback took (announced, taken) "
            f"{dict(list(behind.items())[:5])}"
        ) from None


def table_of(country: str, table: str = "appointments") -> str:
    """A country's table as mysql_rows names it: `<schema>.<table>`."""
    return f"{names.schema(country)}.{table}"


def mysql_rows(admin: pymysql.connections.Connection, insured_id: str) -> Counter[tuple[str, str]]:
    """Rows of an insured in every schema's appointments and rejections, as (`<schema>.<table>`,
    appointment id): found by insured, not by primary key, so a second row for one appointment, or
    a row for an appointment nobody was told about, is counted."""
    rows: Counter[tuple[str, str]] = Counter()
    with admin.cursor() as cursor:
        for found_in in (table_of(country, table) for country in names.COUNTRIES for table in TABLES):
            cursor.execute(
                f"SELECT appointment_id FROM {found_in} WHERE insured_id = %s",  # noqa: S608
                (insured_id,),
            )
            rows.update((found_in, appointment_id) for (appointment_id,) in cursor.fetchall())
    return rows


def rows_per_appointment(rows: Counter[tuple[str, str]]) -> Counter[str]:
    """How many rows each appointment has, whatever the table: one each when nothing doubled."""
    per_id: Counter[str] = Counter()
    for (_table, appointment_id), count in rows.items():
        per_id[appointment_id] += count
    return per_id


def slot_rows(admin: pymysql.connections.Connection, country: str, schedule_id: int) -> dict[str, int]:
    """Rows that name one slot: the appointment holding it and the rejections of those who asked late."""
    counts = {}
    with admin.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"SELECT COUNT(*) FROM {table_of(country, table)} WHERE schedule_id = %s",  # noqa: S608
                (schedule_id,),
            )
            counts[table] = int(cursor.fetchone()[0])
    return counts
