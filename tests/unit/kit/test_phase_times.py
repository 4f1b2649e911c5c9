"""`make e2e` and `make test` end with each session's five slowest tests and a line per phase with
its wall time, and fail when any phase failed (a failed lint runs no test)."""

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
    ("parallel", "audit"), [(0, 0), (1, 0), (0, 1)], ids=["passed", "parallel-failed", "audit-failed"]
)
def test_make_test_times_lint_then_every_test_in_one_parallel_session_then_the_audit(
    tmp_path: Path, parallel: int, audit: int
) -> None:
    result, ran = run_target("test", tmp_path, parallel=parallel, audit=audit)

    assert [session.split()[-1] for session in ran[:1]] == ["lint"]
    assert [("--durations=5" in session, "-n" in session.split()) for session in ran[1:]] == [
        (True, True),
        (False, False),
    ]
    assert "after_every_flow" in ran[2]
    assert phase_lines(result.stdout) == [
        ("lint", ""),
        ("parallel", f", exit {parallel}" if parallel else ""),
        ("audit", f", exit {audit}" if audit else ""),
    ]
    assert (result.returncode != 0) == bool(parallel or audit)


def test_a_failed_lint_runs_no_test_and_fails_make_test(tmp_path: Path) -> None:
    result, ran = run_target("test", tmp_path, lint=3)

    assert [session.split()[-1] for session in ran] == ["lint"]
    assert phase_lines(result.stdout) == [("lint", ", exit 3")]
    assert result.returncode != 0
