"""The tests of one stage run on one worker: `--dist loadgroup` honours `xdist_group` again under
pytest 9.2 (tests/support/xdist_groups.py), checked on a throw-away suite of two groups; and the
session hands out the longest work first (tests/support/longest_first.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from bootstrap.config import ROOT
from tests.support import longest_first

SUITE = """
import pytest

pytestmark = pytest.mark.xdist_group("{group}")


@pytest.mark.parametrize("n", range(6))
def test_in_group(n):
    pass
"""


def on_two_workers(
    suite: Path,
    *options: str,
    plugins: tuple[str, ...] = (),
    workers: int = 2,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The throw-away suite in `suite`, on two pytest-xdist workers, with the plugin. Only the
    plugins it needs are loaded (xdist, and those given), not every one installed: three
    interpreters importing hypothesis and schemathesis for nothing cost seconds of CPU while the
    rest of the suite runs."""
    loaded = [arg for plugin in ("xdist.plugin", *plugins) for arg in ("-p", plugin)]
    return subprocess.run(
        [
            *[
                sys.executable,
                "-m",
                "pytest",
                *loaded,
                "-p",
                "tests.support.xdist_groups",
                "-p",
                "no:cacheprovider",
            ],
            *["-n", str(workers), *options, "-v", "-c", os.devnull, "--rootdir", str(suite), str(suite)],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **(env or {})},
        check=False,
    )


def test_each_groups_tests_run_on_one_worker(tmp_path: Path) -> None:
    for group in ("first", "second"):
        (tmp_path / f"test_{group}.py").write_text(SUITE.format(group=group))
    (tmp_path / "test_free.py").write_text("def test_free_a():\n    pass\n\ndef test_free_b():\n    pass\n")
    run = on_two_workers(tmp_path, "--dist", "loadgroup")
    workers: dict[str, set[str]] = defaultdict(set)
    for worker, group in re.findall(r"\[(gw\d)\] .* PASSED \S+@(\w+)", run.stdout):
        workers[group].add(worker)

    assert run.returncode == 0, run.stdout[-2000:]
    assert {group: len(found) for group, found in workers.items()} == {"first": 1, "second": 1}, run.stdout


API_SUITE = """
import schemathesis

schema = schemathesis.openapi.from_dict({document})


@schema.parametrize()
def test_api(case):
    pass
"""
DOCUMENT = {
    "openapi": "3.0.3",
    "info": {"title": "two operations", "version": "1"},
    "paths": {
        "/a": {"get": {"responses": {"200": {"description": "ok"}}}},
        "/b": {"post": {"responses": {"200": {"description": "ok"}}}},
    },
}


def test_each_api_operation_is_a_test_of_its_own_on_the_workers(tmp_path: Path) -> None:
    (tmp_path / "test_api.py").write_text(API_SUITE.format(document=DOCUMENT))
    run = on_two_workers(tmp_path, plugins=("schemathesis.pytest.plugin",))
    ran = set(re.findall(r"PASSED \S+::test_api\[([A-Z]+ /\w)\]", run.stdout))
    assert run.returncode == 0, run.stdout[-2000:]
    assert ran == {"GET /a", "POST /b"}, run.stdout


TIMED_SUITE = """
import pytest


@pytest.mark.parametrize("name", ["a", "b", "c", "d"])
def test_timed(name):
    pass
"""


def test_the_session_hands_out_first_what_took_longest_last_time_and_records_this_runs_times(
    tmp_path: Path,
) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_timed.py").write_text(TIMED_SUITE)
    durations = tmp_path / "durations.json"
    last_time = {"a": 0.1, "b": 3.0, "c": 1.0, "d": 9.0}
    durations.write_text(json.dumps({f"test_timed.py::test_timed[{n}]": s for n, s in last_time.items()}))

    run = on_two_workers(
        suite,
        "--dist",
        "loadgroup",
        workers=1,
        plugins=("tests.support.longest_first",),
        env={"TEST_DURATIONS_FILE": str(durations)},
    )

    assert run.returncode == 0, run.stdout[-2000:]
    assert re.findall(r"PASSED \S+::test_timed\[(\w)\]", run.stdout) == ["d", "b", "c", "a"], run.stdout
    recorded = json.loads(durations.read_text())
    assert sorted(recorded) == [f"test_timed.py::test_timed[{n}]" for n in "abcd"]
    assert all(seconds < 1.0 for seconds in recorded.values()), recorded  # this run's, not last time's


def test_a_first_session_takes_the_repositorys_typical_times_and_this_machines_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "durations.json"
    monkeypatch.setenv("TEST_DURATIONS_FILE", str(local))
    typical = longest_first.read_seconds(longest_first.TYPICAL_DURATIONS)
    chaos = next(nodeid for nodeid in typical if nodeid.startswith("tests/faults/test_chaos.py::"))

    assert longest_first.read_durations() == typical  # no file here yet: a fresh clone
    assert min(typical.values()) >= longest_first.TYPICAL_AT_LEAST
    local.write_text(json.dumps({chaos: 0.25, "tests/new.py::test_new": 2.0}))
    assert longest_first.read_durations() == typical | {chaos: 0.25, "tests/new.py::test_new": 2.0}
    assert longest_first.typical({"a": 0.44, "b": 0.51, "c": 12.345}) == {"b": 0.5, "c": 12.3}
