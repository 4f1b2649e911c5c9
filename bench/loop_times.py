"""The loop a user repeats, timed as a new user meets it: fresh clones of this checkout's last commit.

Clone A starts with an empty package cache (`UV_CACHE_DIR` a new folder, as on a new machine):
`make up` is timed there, then `make e2e` and `make test` on the stack it left running (checkov's
virtualenv is made before, untimed: it is `make lint`'s one-time cost, not the loop's), then
`make watch`'s save-to-answer as tests/e2e/test_hot_reload.py measures it. Clone B
then runs `.ci/run` from nothing but that now-warm cache, as a CI runner with a package cache does.
Each clone runs its own engine on `--port`, so a stack already running here is left alone; both
are stopped and deleted afterwards. What each command printed is kept beside the results.

Usage: .venv/bin/python -m bench.loop_times [--port 4599]   (part of `make bench-up`)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.flow import RESULTS_DIR
from bench.report import Target, save_named, target_table
from bootstrap.config import ROOT

TARGETS = {
    "make_up_fresh_clone_no_cache_s": Target("`make up` on a fresh clone, no package cache", 45, "s"),
    "make_e2e_s": Target("`make e2e` (stack running)", 45, "s"),
    "make_test_s": Target("`make test` (lint and every level, stack running)", 120, "s"),
    "ci_run_fresh_clone_s": Target("`.ci/run` on a fresh clone", 240, "s"),
    "make_watch_save_to_answer_s": Target("`make watch`: save to the new code answering", 1.5, "s"),
}
LIVE_AFTER = re.compile(r"new text live ([0-9.]+)s after the save")


class StepFailed(RuntimeError):
    pass


def run(clone: Path, command: list[str], env: dict[str, str], log: Path) -> float:
    """`command` in `clone`, its output appended to `log`; its wall time, or StepFailed."""
    print(f"  {' '.join(command)} in {clone.name} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        done = subprocess.run(command, cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.perf_counter() - started
    print(f"    {seconds:.1f}s, exit {done.returncode}", file=sys.stderr, flush=True)
    if done.returncode != 0:
        raise StepFailed(f"{' '.join(command)} failed in {clone} (exit {done.returncode}); see {log}")
    return seconds


def fresh_clone(into: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(into)], check=True)
    return into


def watch_figure(clone: Path, env: dict[str, str], log: Path) -> float:
    """Save to new code answering, as tests/e2e/test_hot_reload.py times it on the running stack."""
    python = str(clone / ".venv" / "bin" / "python")
    run(
        clone,
        [python, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "tests/e2e/test_hot_reload.py"],
        env,
        log,
    )
    found = LIVE_AFTER.findall(log.read_text())
    if not found:
        raise StepFailed(f"the hot reload test printed no timing; see {log}")
    return float(found[-1])


def clean_environment(port: int, cache: Path) -> dict[str, str]:
    """This shell's environment without its virtualenv, with an engine port and a cache of our own."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    bin_of_venv = str(ROOT / ".venv" / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_of_venv)
    return env | {"ENGINE_PORT": str(port), "UV_CACHE_DIR": str(cache), "PIP_NO_CACHE_DIR": "1", "CI": "true"}


def measure(port: int, log: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="rimac-loop-") as tmp:
        folder = Path(tmp)
        env = clean_environment(port, folder / "uv-cache")
        first = fresh_clone(folder / "a")
        figures: dict[str, float] = {}
        try:
            figures["make_up_fresh_clone_no_cache_s"] = run(first, ["make", "up"], env, log)
            run(first, ["make", ".scan-venv/.installed"], env, log)
            figures["make_e2e_s"] = run(first, ["make", "e2e"], env, log)
            figures["make_test_s"] = run(first, ["make", "test"], env, log)
            figures["make_watch_save_to_answer_s"] = watch_figure(first, env, log)
        finally:
            subprocess.run(["make", "down"], cwd=first, env=env, capture_output=True, check=False)
        second = fresh_clone(folder / "b")
        try:
            figures["ci_run_fresh_clone_s"] = run(second, ["bash", ".ci/run"], env, log)
        finally:
            subprocess.run(["make", "down"], cwd=second, env=env, capture_output=True, check=False)
            for clone in (first, second):
                shutil.rmtree(clone, ignore_errors=True)
    return {name: round(seconds, 1) for name, seconds in figures.items()}


def verdicts(figures: dict[str, float]) -> list[dict[str, Any]]:
    return [target.verdict(figures.get(name)) for name, target in TARGETS.items()]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=4599, help="the clones' engine port (default 4599)")
    args = parser.parse_args()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log = RESULTS_DIR / "loop-latest.log"
    log.write_text("")
    figures = measure(args.port, log)
    targets = verdicts(figures)
    report = {"figures": figures, "targets": targets}
    save_named(report, RESULTS_DIR, "loop")
    print(json.dumps(report, indent=2))
    print("\n".join(target_table(targets)))


if __name__ == "__main__":
    main()
