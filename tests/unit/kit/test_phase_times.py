"""`make e2e` and `make test` end with each session's five slowest tests and a line per phase with
its wall time, and fail when any phase failed (`make test`'s lint runs beside its parallel session)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from bootstrap.config import ROOT

# A stand-in for the kit's Python (and for make's own lint run): logs its arguments, then exits with
# the status the environment gives the session it is (the audit selects `after_every_flow`).
STAND_IN = """#!/bin/sh
echo "$0 $*" >> "$STAND_IN_LOG"
case "$*" in
  *lint*) exit "${LINT_STATUS:-0}" ;;
  *"not after_every_flow"*) exit "${PARALLEL_STATUS:-0}" ;;
  *after_every_flow*) exit "${AUDIT_STATUS:-0}" ;;
  *) exit "${PARALLEL_STATUS:-0}" ;;
esac
"""


def run_target(
    target: str, tmp_path: Path, **statuses: int
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    stand_in, log = tmp_path / "stand-in", tmp_path / "ran.log"
    stand_in.write_text(STAND_IN)
    stand_in.chmod(0o755)
    result = subprocess.run(
        # venvs already made: not remade for a stand-in interpreter
        [
            *["make", "--no-print-directory", "-o", ".venv/.installed", "-o", ".engine-venv/.installed"],
            *[f"PY={stand_in}", f"MAKE={stand_in}", target],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "STAND_IN_LOG": str(log),
            **{f"{name.upper()}_STATUS": str(status) for name, status in statuses.items()},
        },
    )
    ran = log.read_text().splitlines() if log.exists() else []
    return result, [line.split(" ", 1)[1] for line in ran]


def phase_lines(stdout: str) -> list[tuple[str, str]]:
    """(phase, what followed its seconds) for each line after the heading, in order."""
    _, _, table = stdout.partition("Wall time per phase:\n")
    return [
        (found.group(1), found.group(2))
        for line in table.splitlines()
        if (found := re.fullmatch(r"  (\w+) +\d+ s(.*)", line))
    ]


@pytest.mark.parametrize("parallel", [0, 1], ids=["passed", "failed"])
def test_make_e2e_runs_one_parallel_session_with_its_slowest_tests_and_ends_with_its_time(
    tmp_path: Path, parallel: int
) -> None:
    result, ran = run_target("e2e", tmp_path, parallel=parallel)

    assert [("--durations=5" in session, "-n" in session.split()) for session in ran] == [(True, True)]
    assert phase_lines(result.stdout) == [("parallel", f", exit {parallel}" if parallel else "")]
    assert result.stdout.rstrip().splitlines()[-1].startswith("  parallel ")  # the last line printed
    assert (result.returncode != 0) == bool(parallel)


@pytest.mark.parametrize(
    ("lint", "parallel", "audit"),
    [(0, 0, 0), (3, 0, 0), (0, 1, 0), (0, 0, 1)],
    ids=["passed", "lint-failed", "parallel-failed", "audit-failed"],
)
def test_make_test_times_lint_beside_one_parallel_session_then_the_audit(
    tmp_path: Path, lint: int, parallel: int, audit: int
) -> None:
    result, ran = run_target("test", tmp_path, lint=lint, parallel=parallel, audit=audit)

    assert sorted(session.split()[-1] == "lint" for session in ran) == [False, False, True]
    sessions = [session for session in ran if session.split()[-1] != "lint"]
    assert [("--durations=5" in session, "-n" in session.split()) for session in sessions] == [
        (True, True),
        (False, False),
    ]
    assert "after_every_flow" in sessions[1]
    assert phase_lines(result.stdout) == [
        ("lint", ", beside the session" + (f", exit {lint}" if lint else "")),
        ("parallel", f", exit {parallel}" if parallel else ""),
        ("audit", f", exit {audit}" if audit else ""),
    ]
    assert (result.returncode != 0) == bool(lint or parallel or audit)
