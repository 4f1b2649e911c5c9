"""`make bench`: appointments through the public HTTP API until `completed`, ours against the
plain design and a no-op chain.

Usage: .venv/bin/python -m bench.flow [--count 1000] [--concurrency 8] [--low-load 40] [--counted 100] [--smoke]

Needs a running stack (`make up`). For each chain, ours, then the plain design (the same template
deployed as stage `benchplain` with the seed's design as the reference implementations write it,
see bench/plain/README.md), then the no-op floor (stage `benchnoop`, functions that only pass the
message on, see bench/noop/README.md), it runs these phases after a warm-up:

- low load: one appointment at a time, the next posted once the last is completed;
- sustained: `--count` appointments, spread evenly over the countries, posted by `--concurrency`
  clients that each post as soon as their last POST is answered; then it waits until all are
  completed;
- counted: `--counted` appointments the same way, with the engine recording every AWS call
  (bench/calls.py): the requests, DynamoDB units, invocations, durations and log bytes one
  appointment costs, which bench/cost.py prices per million appointments.

Completion times are the `updatedAt` the callback writes, so polling adds nothing to the figures.
The count check reads DynamoDB (N completed), MySQL (N rows across the country schemas, ours
only) and the dead-letter queues (none added); any loss makes the exit code 1. The engine's
memory (its process and its function workers) is sampled all along. The report is printed as a
table and written as JSON to bench/results/ (git-ignored). `--smoke` runs 20 appointments and
checks correctness only.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.config import Config as BotoConfig

from bench import baseline, calls, cold_start, cost, plain, report
from bench.memory import MemorySampler, engine_pid
from bootstrap import names
from bootstrap.config import KitConfig, KitError
from bootstrap.dev import kit
from bootstrap.engines import ministack
from bootstrap.stack.queries import admin_connection, api_key, stack_outputs
from tests.support.api_client import AppointmentsApi
from tests.support.counts import dead_letter_depths, stored_rows_per_country
from tests.support.random_refs import random_schedule_id, random_suffix

RESULTS_DIR = Path(__file__).resolve().parent / "results"
# --smoke's sustained phase: enough to pass every hop at the smoke's concurrency, few enough that
# `make test`, which runs it through the three chains, spends seconds on it.
SMOKE_COUNT = 20
INSUREDS_PER_RUN = 20  # appointments are read back with one Query per insured


@dataclass(frozen=True)
class Chain:
    name: str
    config: KitConfig
    api_url: str
    api_key: str
    outputs: dict[str, str]
    mysql_table: str | None  # the table its processors write in each country's schema, if any
    # made once: the benchmark polls with them and shares the cores with what it measures
    dynamodb: Any = field(repr=False, compare=False)
    sqs: Any = field(repr=False, compare=False)

    @classmethod
    def deployed(cls, name: str, config: KitConfig, api_key: str, mysql_table: str | None) -> Chain:
        outputs = stack_outputs(config)
        return cls(
            name=name,
            config=config,
            api_url=config.api_url(outputs),
            api_key=api_key,
            outputs=outputs,
            mysql_table=mysql_table,
            dynamodb=config.client("dynamodb"),
            sqs=config.client("sqs"),
        )


@dataclass(frozen=True)
class Posted:
    appointment_id: str
    insured_id: str
    country: str
    posted_at: float  # epoch seconds, when the POST was sent
    post_seconds: float


@dataclass
class PhaseResult:
    count: int
    concurrency: int
    seconds: float = 0.0  # first POST sent to last appointment completed
    post_ms: dict[str, float] = field(default_factory=dict)
    completed_ms: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    lost: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0


def percentiles(values: Sequence[float]) -> dict[str, float]:
    """p50, p95, p99 (nearest rank) and max, in the values' unit, rounded to 0.1."""
    ordered = sorted(values)
    if not ordered:
        return {}

    def rank(p: float) -> float:
        return ordered[max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))]

    return {
        "p50": round(rank(50), 1),
        "p95": round(rank(95), 1),
        "p99": round(rank(99), 1),
        "max": round(ordered[-1], 1),
    }


def insured_prefix(run: str) -> str:
    """What every insured id of a phase starts with (the phase's own, so its calls can be told)."""
    return f"B{run}"


def requests_for(count: int, run: str) -> list[dict[str, Any]]:
    """The countries in turn, spread over a few insureds, each on a slot no earlier run has taken."""
    base = random_schedule_id()
    return [
        {
            "insuredId": f"{insured_prefix(run)}{n % INSUREDS_PER_RUN:02d}",
            "scheduleId": base + n,
            "countryISO": names.country_in_turn(n).value,
        }
        for n in range(count)
    ]


def post_one(client: AppointmentsApi, body: dict[str, Any]) -> Posted:
    sent_at = time.time()
    started = time.perf_counter()
    reply = client.create(body)
    took = time.perf_counter() - started
    if reply.status != 202:
        raise KitError(f"POST answered {reply.status}: {reply.body}")
    return Posted(reply.body["appointmentId"], body["insuredId"], body["countryISO"], sent_at, took)


def post_all(
    client: AppointmentsApi, requests: list[dict[str, Any]], concurrency: int, say: Callable[[str], None]
) -> list[Posted]:
    posted: list[Posted] = []
    lock = threading.Lock()
    step = max(1, len(requests) // 10)

    def send(body: dict[str, Any]) -> None:
        one = post_one(client, body)
        with lock:
            posted.append(one)
            if len(posted) % step == 0:
                say(f"    posted {len(posted)}/{len(requests)}")

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for future in [pool.submit(send, body) for body in requests]:
            future.result()
    return posted


def completed_at(chain: Chain, insureds: set[str]) -> dict[str, float]:
    """appointmentId -> epoch seconds of its completion, for every completed item of these insureds."""
    done: dict[str, float] = {}
    for insured in insureds:
        pages = chain.dynamodb.get_paginator("query").paginate(
            TableName=chain.outputs[names.TABLE_NAME],
            KeyConditionExpression="insuredId = :insured",
            ExpressionAttributeValues={":insured": {"S": insured}},
            ConsistentRead=True,
        )
        for page in pages:
            for item in page["Items"]:
                if item["status"]["S"] == "completed":
                    moment = datetime.fromisoformat(item["updatedAt"]["S"])
                    done[item["appointmentId"]["S"]] = moment.timestamp()
    return done


def wait_completed(
    chain: Chain, posted: list[Posted], timeout: float, say: Callable[[str], None]
) -> dict[str, float]:
    wanted = {p.appointment_id for p in posted}
    insureds = {p.insured_id for p in posted}
    deadline = time.monotonic() + timeout
    last_said = 0.0
    while True:
        done = {k: v for k, v in completed_at(chain, insureds).items() if k in wanted}
        if len(done) == len(wanted) or time.monotonic() > deadline:
            return done
        if time.monotonic() - last_said > 2:
            say(f"    completed {len(done)}/{len(wanted)}")
            last_said = time.monotonic()
        time.sleep(0.05 if len(wanted) == 1 else 0.5)


def dead_letter_depth(chain: Chain) -> int:
    return sum(dead_letter_depths(chain.sqs, chain.outputs).values())


def mysql_rows(chain: Chain, appointment_ids: list[str]) -> int:
    with contextlib.closing(admin_connection(chain.config)) as connection:
        return sum(stored_rows_per_country(connection, appointment_ids, chain.mysql_table or "").values())


def run_phase(
    chain: Chain,
    requests: list[dict[str, Any]],
    concurrency: int,
    say: Callable[[str], None],
) -> PhaseResult:
    result = PhaseResult(count=len(requests), concurrency=concurrency)
    client = AppointmentsApi(chain.api_url, chain.api_key)
    dead_before = dead_letter_depth(chain)
    timeout = 60.0 + len(requests) / 10
    if concurrency == 0:  # low load: one at a time, each completed before the next is posted
        posted: list[Posted] = []
        done: dict[str, float] = {}
        for body in requests:
            posted.append(post_one(client, body))
            done |= wait_completed(chain, posted[-1:], timeout=30.0, say=say)
        result.concurrency = 1
    else:
        posted = post_all(client, requests, concurrency, say)
        done = wait_completed(chain, posted, timeout, say)
    ids = [p.appointment_id for p in posted]
    result.counts = {"posted": len(posted), "completed": len(done)}
    if chain.mysql_table:
        result.counts["mysql_rows"] = mysql_rows(chain, ids)
    result.counts["dead_lettered"] = dead_letter_depth(chain) - dead_before
    result.lost = [i for i in ids if i not in done]
    if done:
        first = min(p.posted_at for p in posted)
        result.seconds = round(max(done.values()) - first, 3)
    result.post_ms = percentiles([p.post_seconds * 1000 for p in posted])
    result.completed_ms = percentiles(
        [(done[p.appointment_id] - p.posted_at) * 1000 for p in posted if p.appointment_id in done]
    )
    return result


def problems(result: PhaseResult, chain: Chain) -> list[str]:
    found = []
    n = result.count
    if result.counts.get("posted") != n:
        found.append(f"{result.counts.get('posted')} of {n} accepted")
    if result.counts.get("completed") != n:
        found.append(f"{result.counts.get('completed')} of {n} completed (first lost: {result.lost[:3]})")
    if chain.mysql_table and result.counts.get("mysql_rows") != n:
        found.append(f"{result.counts.get('mysql_rows')} of {n} rows in MySQL")
    if result.counts.get("dead_lettered"):
        found.append(f"{result.counts['dead_lettered']} messages added to the dead-letter queues")
    return found


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(terse=True),
        "engine": f"ministack {ministack.engine_version()}",
        "engine_python": ministack.engine_python_version(),
        "bench_python": platform.python_version(),
    }


@contextlib.contextmanager
def timed(say: Callable[[str], None], what: str) -> Iterator[None]:
    started = time.perf_counter()
    say(f"  {what} ...")
    yield
    say(f"  {what}: {time.perf_counter() - started:.1f}s")


# A reconciler's run stops starting pages with 10 s of its 60 left; its answer must not be cut
# short by the client, nor retried beside the next run
RECONCILER_INVOKE_CONFIG = BotoConfig(read_timeout=120, retries={"max_attempts": 1})


def sweep_once(chain: Chain) -> None:
    """One run of the chain's reconciler, as its schedule starts one a minute: its sweep reads
    each appointment once, and what that costs the counted phase's own is counted with it."""
    lambda_client = chain.config.client("lambda", config=RECONCILER_INVOKE_CONFIG)
    answer = lambda_client.invoke(
        FunctionName=chain.outputs[names.RECONCILER_FUNCTION_NAME], Payload=b'{"olderThanSeconds": 0}'
    )
    if answer.get("FunctionError"):
        raise KitError(f"{chain.name}: the reconciler's run failed: {answer['Payload'].read()[:300]!r}")


def bench_chain(
    chain: Chain, args: argparse.Namespace, run: str, say: Callable[[str], None]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The chain's phases, and what one appointment of its counted phase cost (bench/calls.py)."""
    say(f"{chain.name}: {chain.api_url}")
    phases: dict[str, Any] = {}
    # Warm-up: the first calls start the functions' workers (one per concurrent request, up to
    # five per queue), each paying its cold start. Its counts are checked like the others'.
    warm = max(4, args.concurrency) if args.smoke else 10 * args.concurrency
    with timed(say, f"warm-up, {warm} (cold starts; counted, not held against the targets)"):
        phases["warm_up"] = run_phase(chain, requests_for(warm, run + "W"), args.concurrency, say)
    if args.low_load:
        with timed(say, f"low load, {args.low_load} one at a time"):
            phases["low_load"] = run_phase(chain, requests_for(args.low_load, run + "L"), 0, say)
    with timed(say, f"sustained, {args.count} at concurrency {args.concurrency}"):
        phases["sustained"] = run_phase(chain, requests_for(args.count, run + "S"), args.concurrency, say)
    resources = calls.ChainResources.of(chain.config, chain.outputs)
    with timed(say, f"counted, {args.counted} at concurrency {args.concurrency}, every AWS call recorded"):
        with calls.Recording(chain.config) as recording:
            phases["counted"] = run_phase(chain, requests_for(args.counted, run + "C"), args.concurrency, say)
            sweep_once(chain)
        completed = phases["counted"].counts.get("completed", 0)
        counted = calls.count(recording, resources, completed, marker=insured_prefix(run + "C"))
    return phases, counted.per_appointment()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="appointments in the sustained phase")
    parser.add_argument("--concurrency", type=int, default=8, help="clients posting at once")
    parser.add_argument("--low-load", type=int, default=40, help="appointments posted one at a time")
    parser.add_argument("--counted", type=int, default=100, help="appointments whose AWS calls are counted")
    parser.add_argument(
        "--smoke", action="store_true", help=f"{SMOKE_COUNT} appointments sustained, correctness only"
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the plain and no-op chains")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.smoke:
        args.count, args.low_load, args.concurrency = SMOKE_COUNT, 4, min(args.concurrency, 4)
        args.counted = min(args.counted, 10)
    if args.count < 2 or args.concurrency < 1:
        parser.error("--count must be at least 2 and --concurrency at least 1")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        config, _ = kit.resolve()
        key = api_key(config)
        chains = [Chain.deployed("ours", config, key, mysql_table="appointments")]
        if not args.no_baseline:
            plain_config = plain.config_for(config)
            with timed(say, f"plain chain: stack {plain_config.stack_name}"):
                say(f"    {plain.deploy(plain_config)}")
            chains.append(Chain.deployed("plain", plain_config, key, mysql_table=plain.TABLE))
            noop_config = replace(config, stage=baseline.STAGE)
            with timed(say, f"no-op chain: stack {noop_config.stack_name}"):
                say(f"    {baseline.deploy(noop_config)}")
            chains.append(Chain.deployed("no-op", noop_config, key, mysql_table=None))
        run = random_suffix(8)
        results: dict[str, Any] = {}
        per_appointment: dict[str, Any] = {}
        failures: list[str] = []
        with MemorySampler(engine_pid()) as memory:
            for chain in chains:
                phases, per_appointment[chain.name] = bench_chain(chain, args, run, say)
                results[chain.name] = {
                    name: asdict(p) | {"throughput": round(p.throughput, 1)} for name, p in phases.items()
                }
                for name, phase in phases.items():
                    failures += [f"{chain.name} {name}: {p}" for p in problems(phase, chain)]
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    cold = None
    if not args.smoke:
        with timed(say, "cold starts (each function's import, 3 runs)"):
            cold = cold_start.measure(3)
    costs = {name: cost.per_million(figures) for name, figures in per_appointment.items()}
    document = report.document(
        machine=machine(),
        settings={
            "count": args.count,
            "concurrency": args.concurrency,
            "low_load": args.low_load,
            "counted": args.counted,
            "smoke": args.smoke,
        },
        chains=results,
        requests_per_appointment=per_appointment,
        cost_per_million=costs,
        memory=memory.peaks(),
        client_cpu_s=round(time.process_time(), 1),
        cold_starts=cold,
        failures=failures,
        # smoke runs check correctness only: their figures are not held against the targets
        targets=[] if args.smoke else report.verdicts(results, cold, per_appointment, costs),
    )
    path = report.save_named(document, args.results_dir, "flow")
    print(report.table(document))
    say(f"\nJSON: {path}")
    if failures:
        say("LOSS: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
