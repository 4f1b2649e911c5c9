"""`make bench-console`: what the console costs and how fast its overview answers.

Usage: .venv/bin/python -m bench.console [overview] [--appointments 10000] [--dead-letters 1000]
       .venv/bin/python -m bench.console throughput [--count 1000] [--concurrency 8] [--pairs 2]

- overview: a stage of its own (`bench-console`: the kit's template and zips) holding
  `--appointments` appointments in its table and `--dead-letters` messages in its PE DLQ (written
  straight to DynamoDB and SQS, kept for the next run); the console on it; then the overview
  (`/overview.json` and the page `/`) asked every half second, each answer timed by the client,
  beside what one sample of the figures and one scan of the table took in the console.
- throughput: on the stack `make up` deployed, `make bench`'s sustained phase (bench/flow.py's,
  the same requests and counts) run in pairs: once with no console, once with the console's
  overview open in a headless Chromium, refreshing itself every 2 s (the order alternating from
  pair to pair); each pair's ratio and the ratio of the sums are printed.

Both print a table and write JSON to bench/results/ (git-ignored), with the machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import flow, report
from bootstrap import names
from bootstrap.config import KitConfig, KitError
from bootstrap.dev import kit
from bootstrap.stack import provision
from bootstrap.stack.queries import api_key, queue_depth, stack_outputs
from tests.support.browser import chromium
from tests.support.console import running_console
from tests.support.random_refs import random_suffix
from tests.support.stages import kit_zips

STAGE = "bench-console"
ASKED = 60  # overview answers timed, half a second apart


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def stage_config(config: KitConfig) -> KitConfig:
    return replace(config, stage=STAGE, artifact_bucket_name=config.artifact_bucket)


def appointment_id(n: int) -> str:
    """A fixed id per n, of an appointment id's shape: a second run writes the same items again."""
    return f"01M{n:023d}"


STATUSES = ("completed",) * 18 + ("rejected", "pending")


def items_in(config: KitConfig, table: str) -> int:
    pages = config.client("dynamodb").get_paginator("scan").paginate(TableName=table, Select="COUNT")
    return sum(page["Count"] for page in pages)


def seed_table(config: KitConfig, table: str, count: int) -> int:
    dynamodb = config.client("dynamodb")
    if items_in(config, table) >= count:
        return 0
    stamp = datetime.now(UTC).isoformat()
    for start in range(0, count, 25):
        items = []
        for n in range(start, min(start + 25, count)):
            status = STATUSES[n % len(STATUSES)]
            item = {
                "insuredId": {"S": f"BENCH{n % 2000:05d}"},
                "appointmentId": {"S": appointment_id(n)},
                "scheduleId": {"N": str(n + 1)},
                "countryISO": {"S": names.country_in_turn(n).value},
                "status": {"S": status},
                "createdAt": {"S": stamp},
                "updatedAt": {"S": stamp},
                "correlationId": {"S": f"bench-{n}"},
            }
            if status == "rejected":
                item["rejectionReason"] = {"S": "the slot is taken"}
            items.append({"PutRequest": {"Item": item}})
        dynamodb.batch_write_item(RequestItems={table: items})
    return count


def seed_dead_letters(config: KitConfig, url: str, count: int) -> int:
    sqs = config.client("sqs")
    held = queue_depth(sqs, url).total
    for start in range(held, count, 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[
                {
                    "Id": str(n),
                    "MessageBody": (
                        f'{{"version": "1.0", "appointmentId": "{appointment_id(n)}", '
                        f'"insuredId": "BENCH{n % 2000:05d}", "scheduleId": {n + 1}, "countryISO": "PE"}}'
                    ),
                }
                for n in range(start, min(start + 10, count))
            ],
        )
    return max(0, count - held)


def timed_get(client: httpx.Client, path: str) -> tuple[float, int]:
    began = time.perf_counter()
    answer = client.get(path)
    return (time.perf_counter() - began) * 1000, answer.status_code


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
        "max": round(ordered[-1], 1),
    }


def overview(config: KitConfig, appointments: int, dead_letters: int) -> dict[str, Any]:
    staged = stage_config(config)
    zips = kit_zips(config)
    say(f"stage {STAGE}: {provision.deploy_stack(staged, provision.stack_parameters(staged, zips))}")
    outputs = stack_outputs(staged)
    written = seed_table(staged, outputs[names.TABLE_NAME], appointments)
    sent = seed_dead_letters(staged, outputs[names.dead_letter_queue_output("PE")], dead_letters)
    held = items_in(staged, outputs[names.TABLE_NAME])
    dlq = queue_depth(staged.client("sqs"), outputs[names.dead_letter_queue_output("PE")]).total
    say(f"  {held} appointments ({written} written now), {dlq} messages in the PE DLQ ({sent} sent now)")
    started = time.perf_counter()
    with running_console(staged) as console, httpx.Client(base_url=console.url, timeout=10) as client:
        first = (time.perf_counter() - started) * 1000
        times: dict[str, list[float]] = {"/overview.json": [], "/": [], "/map": []}
        samples, scans = [], []
        for _ in range(ASKED):
            for path, kept in times.items():
                ms, status = timed_get(client, path)
                if status != 200:
                    raise KitError(f"the console answered {status} to {path}")
                kept.append(ms)
            figures = client.get("/overview.json").json()
            samples.append(figures["seconds"] * 1000)
            if figures.get("scan"):
                scans.append(figures["scan"]["seconds"] * 1000)
                counted = sum(figures["scan"]["statuses"].values())
            time.sleep(0.5)
        queues_ms, _ = timed_get(client, "/queues")
    return {
        "appointments": held,
        "dead_letters": dlq,
        "counted_by_the_scan": counted,
        "console_start_to_first_answer_ms": round(first, 1),
        "answer_ms": {path: summary(kept) for path, kept in times.items()},
        "sample_ms": summary(samples),
        "table_scan_ms": summary(scans),
        "queues_page_ms_with_50_of_the_dead_letters": round(queues_ms, 1),
        "asked": ASKED,
    }


def overview_table(result: dict[str, Any]) -> str:
    lines = [
        f"{result['appointments']} appointments, {result['dead_letters']} messages in the PE DLQ; "
        f"console up and answering in {result['console_start_to_first_answer_ms']:.0f} ms",
        "| answer | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|",
    ]
    rows = [*result["answer_ms"].items(), ("one sample of the figures", result["sample_ms"])]
    rows.append(("one scan of the table", result["table_scan_ms"]))
    lines += [f"| {name} | {v['p50']:.0f} | {v['p95']:.0f} | {v['max']:.0f} |" for name, v in rows]
    lines.append(
        f"/queues (the dead letters, 50 read): {result['queues_page_ms_with_50_of_the_dead_letters']:.0f} ms"
    )
    return "\n".join(lines)


def sustained(chain: flow.Chain, count: int, concurrency: int, run: str) -> dict[str, Any]:
    phase = flow.run_phase(chain, flow.requests_for(count, run), concurrency, say)
    lost = flow.problems(phase, chain)
    if lost:
        raise KitError("; ".join(lost))
    return asdict(phase) | {"throughput": round(phase.throughput, 1)}


def throughput(config: KitConfig, count: int, concurrency: int, pairs: int) -> dict[str, Any]:
    chain = flow.Chain.deployed("ours", config, api_key(config), mysql_table="appointments")
    run = random_suffix(8)
    say(f"warm-up, {10 * concurrency}")
    sustained(chain, 10 * concurrency, concurrency, run + "W")
    runs: list[dict[str, Any]] = []

    def without_console(n: int) -> dict[str, Any]:
        say(f"pair {n + 1}: sustained {count}, no console")
        done = sustained(chain, count, concurrency, f"{run}A{n}") | {"load_average": os.getloadavg()}
        say(f"  {done['throughput']} appointments/s")
        return done

    def with_console(n: int) -> dict[str, Any]:
        with running_console(config) as console, chromium(window="1400,900") as browser:
            browser.get(console.url + "/")  # the flow map, refreshing itself every 2 s
            time.sleep(5)  # the browser started and the page drawn before the phase begins
            say(f"pair {n + 1}: sustained {count}, the console's overview open in Chromium")
            done = sustained(chain, count, concurrency, f"{run}B{n}") | {"load_average": os.getloadavg()}
            done["page_requests"] = browser.execute_script(
                "return performance.getEntriesByType('resource').length"
            )
        say(f"  {done['throughput']} appointments/s ({done['page_requests']} requests by the page)")
        return done

    for n in range(pairs):
        # alternately first and second, so a drift of the machine's load does not side with one
        if n % 2 == 0:
            without = without_console(n)
            opened = with_console(n)
        else:
            opened = with_console(n)
            without = without_console(n)
        runs.append({"without": without, "with_console": opened, "page_requests": opened["page_requests"]})
    sums = [sum(r[key]["throughput"] for r in runs) for key in ("without", "with_console")]
    return {
        "count": count,
        "concurrency": concurrency,
        "pairs": [
            {
                "without": r["without"]["throughput"],
                "with_console": r["with_console"]["throughput"],
                "ratio": round(r["with_console"]["throughput"] / r["without"]["throughput"], 3),
                "page_requests": r["page_requests"],
            }
            for r in runs
        ],
        "ratio": round(sums[1] / sums[0], 3),
        "runs": runs,
    }


def throughput_table(result: dict[str, Any]) -> str:
    lines = [
        f"sustained phase: {result['count']} appointments at concurrency {result['concurrency']}",
        "| pair | no console appt/s | overview open appt/s | ratio |",
        "|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {n} | {p['without']:.1f} | {p['with_console']:.1f} | {p['ratio']:.3f} |"
        for n, p in enumerate(result["pairs"], 1)
    ]
    lines.append(f"ratio of the sums: {result['ratio']:.3f}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", nargs="?", choices=["overview", "throughput"], default="overview")
    parser.add_argument("--appointments", type=int, default=10_000)
    parser.add_argument("--dead-letters", type=int, default=1_000)
    parser.add_argument(
        "--count", type=int, default=1000, help="throughput: appointments per sustained phase"
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--pairs", type=int, default=2, help="throughput: phases without and with the console"
    )
    args = parser.parse_args(argv)
    measure: dict[str, Callable[[KitConfig], dict[str, Any]]] = {
        "overview": lambda config: overview(config, args.appointments, args.dead_letters),
        "throughput": lambda config: throughput(config, args.count, args.concurrency, args.pairs),
    }
    try:
        config, _ = kit.resolve()
        began = datetime.now(UTC)
        result = measure[args.what](config)
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    document: dict[str, Any] = {
        "kind": f"console-{args.what}",
        "run": began.isoformat(timespec="seconds"),
        "command": "python -m bench.console " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": flow.machine(),
        "result": result,
    }
    path = report.save_named(document, flow.RESULTS_DIR, f"console-{args.what}")
    machine = document["machine"]
    print(
        f"Machine: {machine['cores']} cores ({machine['cpu']}), {machine['memory_gib']} GiB; run {document['run']}"
    )
    print(overview_table(result) if args.what == "overview" else throughput_table(result))
    say(f"\nJSON: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
