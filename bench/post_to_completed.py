"""How long one appointment takes from POST to `completed`, through the public HTTP API.

Usage: .venv/bin/python -m bench.post_to_completed [--count 20] [--country PE]
Needs a running stack (`make up`). Posts one appointment at a time and polls GET every 10 ms
until it reads `completed`, so each figure is the whole event chain plus at most one poll interval.
The first figure after `make up` includes the cold start of every function in the chain.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid

from bootstrap import provision
from bootstrap.config import KitConfig
from tests.e2e.api_client import AppointmentsApi

POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 30.0


def one(api: AppointmentsApi, insured: str, schedule: int, country: str) -> tuple[float, float]:
    """Returns (POST latency, POST-to-completed latency) in seconds."""
    started = time.perf_counter()
    reply = api.create({"insuredId": insured, "scheduleId": schedule, "countryISO": country})
    posted = time.perf_counter() - started
    if reply.status != 202:
        raise SystemExit(f"POST failed: {reply}")
    appointment_id = reply.body["appointmentId"]
    deadline = started + TIMEOUT_SECONDS
    while time.perf_counter() < deadline:
        status = api.status_of(insured, appointment_id)
        if status == "completed":
            return posted, time.perf_counter() - started
        if status == "rejected":
            raise SystemExit(f"appointment {appointment_id} was rejected: its slot was taken")
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"appointment {appointment_id} not completed within {TIMEOUT_SECONDS:.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--country", choices=["PE", "CL"], default="PE")
    args = parser.parse_args()

    config = KitConfig.from_env()
    api_key = config.client("ssm").get_parameter(Name=config.api_key_parameter, WithDecryption=True)
    api = AppointmentsApi(config.api_url(provision.stack_outputs(config)), api_key["Parameter"]["Value"])
    insured = "BENCH" + uuid.uuid4().hex[:12].upper()
    # Fresh slots: a slot taken by an earlier run would be rejected, not completed.
    base = random.randrange(10**12, 10**13)  # noqa: S311 (a slot number, not a secret)
    runs = []
    for n in range(1, args.count + 1):
        runs.append(one(api, insured, base + n, args.country))
        if n % 5 == 0 or n == args.count:  # progress on stderr; the report alone goes to stdout
            print(
                f"  {n}/{args.count} completed, last {runs[-1][1] * 1000:.0f} ms", file=sys.stderr, flush=True
            )
    completed_ms = [round(total * 1000, 1) for _, total in runs]
    post_ms = [round(posted * 1000, 1) for posted, _ in runs]
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "count": args.count,
        "country": args.country,
        "first_post_to_completed_ms": completed_ms[0],
        "post_to_completed_ms": {
            "median": round(statistics.median(completed_ms), 1),
            "min": min(completed_ms),
            "max": max(completed_ms),
        },
        "post_ms_median": round(statistics.median(post_ms), 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
