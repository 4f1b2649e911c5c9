"""How long `make up` takes: from a stopped engine with warm caches, then re-run on the running stack.

Usage: .venv/bin/python -m bench.up_times [--runs 3]   (`make bench-up`; it stops and restarts the engine)

"Warm cache" means the virtualenvs, the Lambda dependencies and the zips exist. Two starts are
timed: the engine stopped with its saved state (the usual `make down` then `make up`), and the
engine stopped with no state at all, so every resource is created again (its saved state is moved
aside for that run and put back after). Each figure is the wall time of the whole command,
`python -m bootstrap up`; the re-run is `make up` again on the running stack.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time

from bench.flow import RESULTS_DIR
from bench.report import save_named
from bootstrap.config import STATE_DIR
from bootstrap.engines.ministack import PERSISTED_S3, PERSISTED_STATE


def timed(*command: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bootstrap", *command], check=True, capture_output=True)
    return time.perf_counter() - started


def up_without_state() -> float:
    """`make up` from an engine with no saved state; the user's state is put back afterwards."""
    timed("down")
    aside = STATE_DIR / "bench-aside"
    shutil.rmtree(aside, ignore_errors=True)
    aside.mkdir()
    for folder in (PERSISTED_STATE, PERSISTED_S3):
        if folder.exists():
            folder.rename(aside / folder.name)
    try:
        seconds = timed("up")
        timed("down")
    finally:
        for folder in (PERSISTED_STATE, PERSISTED_S3):
            shutil.rmtree(folder, ignore_errors=True)
            if (aside / folder.name).exists():
                (aside / folder.name).rename(folder)
        aside.rmdir()
    timed("up")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    timed("up")  # caches warm, stack deployed
    stopped, empty, again = [], [], []
    for n in range(1, args.runs + 1):
        timed("down")
        stopped.append(timed("up"))
        again.append(timed("up"))
        empty.append(up_without_state())
        print(
            f"  run {n}: engine stopped {stopped[-1]:.1f}s, engine without state {empty[-1]:.1f}s, "
            f"re-run {again[-1]:.1f}s",
            file=sys.stderr,
        )

    def figures(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}

    report = {
        "up_engine_stopped_s": figures(stopped),
        "up_engine_without_state_s": figures(empty),
        "up_rerun_s": figures(again),
        "runs": args.runs,
    }
    print(json.dumps(report, indent=2))
    save_named(report, RESULTS_DIR, "up")


if __name__ == "__main__":
    main()
