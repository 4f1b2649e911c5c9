"""How long `make up` takes: from a stopped engine with warm caches, then re-run on the running stack.

Usage: .venv/bin/python -m bench.up_times [--runs 3]   (`make bench-up`; it stops and restarts the engine)

"Warm cache" means the virtualenvs, the Lambda dependencies and the zips exist (a second `make up`
on a machine, or after `make down`), and the engine is stopped. Each figure is the wall time of the
whole command, `python -m bootstrap up`, as the user runs it through make.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from bench.flow import RESULTS_DIR
from bench.report import save_named


def timed(*command: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bootstrap", *command], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    timed("up")  # caches warm, stack deployed
    cold, again = [], []
    for n in range(1, args.runs + 1):
        timed("down")
        cold.append(timed("up"))
        again.append(timed("up"))
        print(f"  run {n}: from a stopped engine {cold[-1]:.1f}s, re-run {again[-1]:.1f}s", file=sys.stderr)
    report = {
        "up_from_stopped_engine_s": {"median": round(statistics.median(cold), 2), "max": round(max(cold), 2)},
        "up_rerun_s": {"median": round(statistics.median(again), 2), "max": round(max(again), 2)},
        "runs": args.runs,
    }
    print(json.dumps(report, indent=2))
    save_named(report, RESULTS_DIR, "up")


if __name__ == "__main__":
    main()
