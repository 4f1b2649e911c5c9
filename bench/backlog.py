"""`make bench-backlog`: a backlog of appointments the topic refused, drained by the reconciler.

Usage: .venv/bin/python -m bench.backlog [--count 10000] [--seed api|direct] [--concurrency 8]

Needs a running stack (`make up`). It:

1. stops the schedule (the rule is disabled, so no run starts beside the ones below: the engine
   does not enforce the reconciler's reserved concurrency of 1) and makes the topic refuse the
   HTTP function's publishes (its TOPIC_ARN names a topic that is not there, as
   tests/faults/test_seams.py does; the function's workers are recycled);
2. makes `--count` pending appointments, half PE and half CL, each on a slot of its own:
   - `--seed api` (the default): POSTed through the public API by `--concurrency` clients; each
     is answered 202 and stays pending, as the refused publish leaves it;
   - `--seed direct`: written with BatchWriteItem, each the item the HTTP function writes
     (`appointments.adapters.dynamodb.new_item`, the repository's own code), for counts the API
     would take long to post; the correlation id is the run's rather than an HTTP request id;
3. keeps the topic refusing until the last appointment is as old as the reconciler waits for
   (HandOverAfterSeconds, 60 s), so the whole backlog is there for its first run; then heals the
   topic (the HTTP function's own TOPIC_ARN back) and invokes the reconciler with the schedule's
   event, one run after the other as the schedule would start them (without the schedule's idle
   seconds between runs), until its runs have handed over every one of the run's appointments
   (each run's sweep finds them pending and publishes them), printing the progress every 5 s;
4. waits until every appointment is `completed` and checks each was handed over by exactly one
   run, is completed in DynamoDB, and has exactly one row in MySQL (found by insured, so a second
   row would count) in its own country's schema and no rejection; no message reached a DLQ.

It prints the minutes the drain took, the publishes per second (appointments handed over per
second of the drain) and the minutes until the last one was completed, and writes it all as JSON
to bench/results/backlog-<time>.json. The schedule and the topic are restored whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import bootstrap  # noqa: F401 (it puts lambdas/ on the import path, for appointments below)

# isort: split
from appointments.adapters.dynamodb_items import new_item
from appointments.domain import Appointment, AppointmentRequest, Country
from appointments.services import new_appointment_id
from bench import report
from bench.flow import RECONCILER_INVOKE_CONFIG, RESULTS_DIR, machine
from bootstrap import names
from bootstrap.config import KitConfig, KitError
from bootstrap.dev import kit
from bootstrap.stack.queries import admin_connection, api_key, stack_outputs
from tests.support.api_client import AppointmentsApi
from tests.support.counts import dead_letter_depths
from tests.support.random_refs import random_schedule_id, random_suffix
from tests.support.tally import mysql_rows, table_of

INSUREDS_PER_RUN = 20  # completion is read with one Query per insured
PROGRESS_EVERY_S = 5.0

Say = Callable[[str], None]


@dataclass
class Drain:
    started: float = field(default_factory=time.monotonic)  # when the topic healed
    runs: list[dict[str, Any]] = field(default_factory=list)  # each run's seconds and counts
    handed_over: Counter[str] = field(default_factory=Counter)  # appointment id -> runs that did
    failed_runs: list[str] = field(default_factory=list)


def requests_for(count: int, run: str) -> list[AppointmentRequest]:
    base = random_schedule_id()
    return [
        AppointmentRequest(
            insured_id=f"BL{run}{n % INSUREDS_PER_RUN:02d}",
            schedule_id=base + n,
            country=names.country_in_turn(n),
            correlation_id=f"backlog-{run}-{n}",
        )
        for n in range(count)
    ]


@contextlib.contextmanager
def schedule_stopped(config: KitConfig) -> Iterator[None]:
    rule = config.client("cloudformation").describe_stack_resource(
        StackName=config.stack_name, LogicalResourceId="ReconcilerSchedule"
    )["StackResourceDetail"]["PhysicalResourceId"]
    events = config.client("events")
    events.disable_rule(Name=rule)
    try:
        yield
    finally:
        events.enable_rule(Name=rule)


@contextlib.contextmanager
def topic_refused(lambda_client: Any, function: str) -> Iterator[None]:
    """The HTTP function publishes to a topic that is not there until the block ends."""
    original = lambda_client.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    missing = original | {"TOPIC_ARN": original["TOPIC_ARN"] + "-missing"}
    lambda_client.update_function_configuration(FunctionName=function, Environment={"Variables": missing})
    try:
        yield
    finally:
        lambda_client.update_function_configuration(
            FunctionName=function, Environment={"Variables": original}
        )


def hand_over_after(lambda_client: Any, function: str) -> int:
    """The age the reconciler waits for before it publishes an appointment, in seconds."""
    variables = lambda_client.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    return int(variables.get("HAND_OVER_AFTER_SECONDS", 60))


def seed_through_the_api(
    api: AppointmentsApi, requests: list[AppointmentRequest], concurrency: int, say: Say
) -> dict[str, Country]:
    ids: dict[str, Country] = {}
    lock = threading.Lock()
    step = max(1, len(requests) // 10)

    def post(request: AppointmentRequest) -> None:
        body = {
            "insuredId": request.insured_id,
            "scheduleId": request.schedule_id,
            "countryISO": request.country.value,
        }
        reply = api.create(body)
        if reply.status != 202:
            raise KitError(f"POST answered {reply.status}: {reply.body}")
        with lock:
            ids[reply.body["appointmentId"]] = request.country
            if len(ids) % step == 0:
                say(f"    posted {len(ids)}/{len(requests)}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(post, request) for request in requests]:
            future.result()
    return ids


def seed_directly(
    dynamodb: Any, table: str, requests: list[AppointmentRequest], say: Say
) -> dict[str, Country]:
    appointments = [
        Appointment.pending(new_appointment_id(), request, datetime.now(UTC)) for request in requests
    ]
    for start in range(0, len(appointments), 25):
        writes = [{"PutRequest": {"Item": new_item(a)}} for a in appointments[start : start + 25]]
        pending = {table: writes}
        while pending:
            pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if (start // 25) % 40 == 39:
            say(f"    written {start + 25}/{len(appointments)}")
    return {a.appointment_id: a.country for a in appointments}


def statuses(dynamodb: Any, table: str, insureds: set[str]) -> dict[str, tuple[str, str]]:
    """appointmentId -> (status, updatedAt), for every appointment of these insureds."""
    found: dict[str, tuple[str, str]] = {}
    for insured in insureds:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="insuredId = :insured",
            ExpressionAttributeValues={":insured": {"S": insured}},
            ProjectionExpression="appointmentId, #status, updatedAt",
            ExpressionAttributeNames={"#status": "status"},
        )
        for page in pages:
            found |= {
                item["appointmentId"]["S"]: (item["status"]["S"], item["updatedAt"]["S"])
                for item in page["Items"]
            }
    return found


def run_reconciler_until(lambda_client: Any, function: str, drained: threading.Event, drain: Drain) -> None:
    """Invoke the reconciler one run after another, as its schedule starts them, until told to
    stop; a run that found nothing is followed by a second's pause."""
    while not drained.is_set():
        started = time.monotonic()
        answer = lambda_client.invoke(FunctionName=function, Payload=b"{}")
        seconds = round(time.monotonic() - started, 2)
        result = json.loads(answer["Payload"].read())
        if answer.get("FunctionError"):
            drain.failed_runs.append(str(result)[:300])
            continue
        drain.handed_over.update(result["handedOver"])
        drain.runs.append(
            {
                "ended_s": round(time.monotonic() - drain.started, 2),
                "seconds": seconds,
                "handed_over": len(result["handedOver"]),
                "still_waiting": len(result["stillWaiting"]),
                "walked": result["walked"],
            }
        )
        if not result["handedOver"]:
            drained.wait(1.0)


def drain_backlog(config: KitConfig, outputs: dict[str, str], ids: set[str], say: Say) -> tuple[Drain, float]:
    """Runs of the reconciler until it has handed over every one of `ids` (its sweep finds them
    pending, publishes them and puts them in the outbox, which their settling takes them out of)."""
    lambda_client = config.client("lambda", config=RECONCILER_INVOKE_CONFIG)
    drain, drained = Drain(), threading.Event()
    started = drain.started
    worker = threading.Thread(
        target=run_reconciler_until,
        args=(lambda_client, outputs[names.RECONCILER_FUNCTION_NAME], drained, drain),
        daemon=True,
    )
    worker.start()
    deadline = started + 120 + len(ids) / 10
    try:
        while True:
            left = len(ids - set(drain.handed_over))
            elapsed = time.monotonic() - started
            handed = sum(drain.handed_over.values())
            say(
                f"    {elapsed:6.0f} s  {left:5d} left  handed over {handed:5d} in {len(drain.runs)} runs"
                f"  ({handed / elapsed if elapsed else 0:.0f}/s)"
            )
            if left == 0:  # drained when the last run that handed over ended
                return drain, max((r["ended_s"] for r in drain.runs if r["handed_over"]), default=0.0)
            if time.monotonic() > deadline:
                raise KitError(f"{left} of the run's appointments not handed over after {elapsed:.0f} s")
            drained.wait(PROGRESS_EVERY_S)
    finally:
        drained.set()
        worker.join(timeout=90)


def wait_completed(
    config: KitConfig, outputs: dict[str, str], ids: set[str], insureds: set[str], say: Say
) -> dict[str, tuple[str, str]]:
    dynamodb, table = config.client("dynamodb"), outputs[names.TABLE_NAME]
    deadline = time.monotonic() + 120 + len(ids) / 10
    while True:
        found = {i: s for i, s in statuses(dynamodb, table, insureds).items() if i in ids}
        done = sum(status == "completed" for status, _ in found.values())
        say(f"    completed {done}/{len(ids)}")
        if done == len(ids) or time.monotonic() > deadline:
            return found
        time.sleep(PROGRESS_EVERY_S)


def rows_found(config: KitConfig, insureds: set[str]) -> Counter[tuple[str, str]]:
    with contextlib.closing(admin_connection(config)) as connection:
        rows: Counter[tuple[str, str]] = Counter()
        for insured in insureds:
            rows += mysql_rows(connection, insured)
        return rows


def problems(
    ids: dict[str, Country],
    drain: Drain,
    found: dict[str, tuple[str, str]],
    rows: Counter[tuple[str, str]],
    dead_added: int,
) -> list[str]:
    wrong: list[str] = []
    twice = [i for i, runs in drain.handed_over.items() if runs > 1]
    never = [i for i in ids if i not in drain.handed_over]
    if twice or never:
        wrong.append(f"handed over twice: {len(twice)} {twice[:3]}, never: {len(never)} {never[:3]}")
    if drain.failed_runs:
        wrong.append(f"{len(drain.failed_runs)} runs failed, the first: {drain.failed_runs[0]}")
    not_completed = [i for i in ids if found.get(i, ("missing", ""))[0] != "completed"]
    if not_completed:
        wrong.append(f"{len(not_completed)} not completed, e.g. {not_completed[:3]}")
    # one row each, in its own country's appointments table; no rejection, no row elsewhere
    expected = Counter({(table_of(country), i): 1 for i, country in ids.items()})
    if rows != expected:
        extra, missing = rows - expected, expected - rows
        wrong.append(f"MySQL rows: {sum(extra.values())} unexpected, {sum(missing.values())} missing")
    if dead_added:
        wrong.append(f"{dead_added} messages added to the dead-letter queues")
    return wrong


def table_text(doc: dict[str, Any]) -> str:
    m, r = doc["machine"], doc["result"]
    return "\n".join(
        [
            f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB; {m['engine']} on Python "
            f"{m['engine_python']}; run {doc['when']}; settings {json.dumps(doc['settings'])}",
            "",
            "| backlog | seeded in | drained in | publishes/s | runs that published | last completed after "
            "| completed | MySQL rows | handed over twice | DLQ added |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {r['count']} | {r['seed_s'] / 60:.1f} min | {r['drain_s'] / 60:.2f} min "
            f"| {r['publishes_per_s']:.0f} | {r['runs']} | {(r['completed_after_s'] or 0) / 60:.2f} min "
            f"| {r['completed']} | {r['mysql_rows']} | {r['handed_over_twice']} | {r['dead_lettered']} |",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000, help="appointments in the backlog")
    parser.add_argument("--seed", choices=("api", "direct"), default="api", help="how the backlog is made")
    parser.add_argument("--concurrency", type=int, default=8, help="clients posting at once (--seed api)")
    args = parser.parse_args(argv)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    run = random_suffix(8)
    requests = requests_for(args.count, run)
    insureds = {r.insured_id for r in requests}
    try:
        config, _ = kit.resolve()
        outputs = stack_outputs(config)
        dynamodb, table = config.client("dynamodb"), outputs[names.TABLE_NAME]
        lambda_client, sqs = config.client("lambda"), config.client("sqs")
        dead_before = sum(dead_letter_depths(sqs, outputs).values())
        with schedule_stopped(config):
            say(f"backlog {run}: {args.count} appointments through the {args.seed}, the topic refusing")
            seeding = time.monotonic()
            with topic_refused(lambda_client, outputs[names.HTTP_FUNCTION_NAME]):
                if args.seed == "api":
                    api = AppointmentsApi(config.api_url(outputs), api_key(config))
                    ids = seed_through_the_api(api, requests, args.concurrency, say)
                else:
                    ids = seed_directly(dynamodb, table, requests, say)
                seed_s = time.monotonic() - seeding
                # The outage outlasts the last post by the age the reconciler waits for, so the
                # whole backlog is there for its first run
                age = hand_over_after(lambda_client, outputs[names.RECONCILER_FUNCTION_NAME])
                say(f"  seeded {len(ids)} in {seed_s:.0f} s; the topic refuses {age} s more")
                time.sleep(age)
            say("  the topic healed; the reconciler drains")
            healed = time.time()
            drain, drain_s = drain_backlog(config, outputs, set(ids), say)
        found = wait_completed(config, outputs, set(ids), insureds, say)
        rows = rows_found(config, insureds)
        dead_added = sum(dead_letter_depths(sqs, outputs).values()) - dead_before
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    wrong = problems(ids, drain, found, rows, dead_added)
    completed = [datetime.fromisoformat(at) for status, at in found.values() if status == "completed"]
    handed = sum(1 for i in ids if i in drain.handed_over)
    document = report.document(
        machine=machine(),
        settings={"count": args.count, "seed": args.seed, "concurrency": args.concurrency},
        result={
            "count": len(ids),
            "seed_s": round(seed_s, 1),
            "drain_s": round(drain_s, 1),
            "publishes_per_s": round(handed / drain_s, 1) if drain_s else 0.0,
            "runs": sum(1 for r in drain.runs if r["handed_over"]),  # the runs that found some
            "completed_after_s": round(max(completed).timestamp() - healed, 1) if completed else None,
            "completed": len(completed),
            "mysql_rows": sum(rows.values()),
            "handed_over_twice": sum(1 for n in drain.handed_over.values() if n > 1),
            "dead_lettered": dead_added,
        },
        runs=drain.runs,
        failures=wrong,
    )
    path = report.save_named(document, RESULTS_DIR, "backlog")
    print(table_text(document))
    say(f"\nJSON: {path}")
    if wrong:
        say("WRONG: " + "; ".join(wrong))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
