"""The parallel session hands out the longest work first, by what each test took last time.

pytest-xdist's `--dist loadgroup` hands a worker the next unit (a stage's group, or a test alone)
in collection order, the groups with more tests first. A group of few but long tests (the bursts
that put hundreds of appointments through a stage) could then start late and hold the session up
alone at its end. Here the controller records each test's time (setup, call and teardown) in
TEST_DURATIONS_FILE (.local/test-durations.json unless set), and the next session's queue gives
out the unit whose tests took longest, a test it has not seen counting UNKNOWN_SECONDS. Before a
first session (a fresh clone, CI) there is no such file: TYPICAL_DURATIONS, kept in the repository,
holds what the tests of half a second or more took in one `make test` on a 2-core machine, so
that session too starts the long groups first. `make test-durations` refreshes it.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict, defaultdict
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadGroupScheduling

from bootstrap.config import STATE_DIR
from tests.support.one_at_a_time import write_whole

UNKNOWN_SECONDS = 1.0
TYPICAL_DURATIONS = Path(__file__).resolve().parent / "typical-durations.json"
TYPICAL_AT_LEAST = 0.5  # shorter tests are left to UNKNOWN_SECONDS: their order hardly matters


def durations_file() -> Path:
    return Path(os.environ.get("TEST_DURATIONS_FILE", STATE_DIR / "test-durations.json"))


def read_seconds(path: Path) -> dict[str, float]:
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in known.items()} if isinstance(known, dict) else {}


def read_durations() -> dict[str, float]:
    """This machine's last times, over the repository's typical ones."""
    return read_seconds(TYPICAL_DURATIONS) | read_seconds(durations_file())


def typical(known: dict[str, float]) -> dict[str, float]:
    """What TYPICAL_DURATIONS keeps: the tests of TYPICAL_AT_LEAST seconds or more, to a tenth."""
    return {nodeid: round(s, 1) for nodeid, s in sorted(known.items()) if s >= TYPICAL_AT_LEAST}


class LongestFirst(OrderedDict[str, dict[str, bool]]):
    """pytest-xdist's work queue (scope -> its tests), popped longest unit first."""

    def __init__(self, known: dict[str, float]) -> None:
        super().__init__()
        self.known = known

    def seconds(self, scope: str) -> float:
        return sum(self.known.get(nodeid, UNKNOWN_SECONDS) for nodeid in self[scope])

    def popitem(self, last: bool = True) -> tuple[str, dict[str, bool]]:
        if not self:
            raise KeyError("popitem(): the work queue is empty")
        scope = max(self, key=self.seconds)  # the first of equals: collection order
        return scope, self.pop(scope)


class LongestFirstScheduling(LoadGroupScheduling):
    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self.workqueue = LongestFirst(read_durations())


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> LoadGroupScheduling | None:
    return LongestFirstScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None


class Recorder:
    """In the controller: each test's seconds, written to the file when the session ends."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] += report.duration

    @pytest.hookimpl
    def pytest_sessionfinish(self) -> None:
        if not self.seconds:
            return
        known = read_seconds(durations_file()) | {nodeid: round(s, 3) for nodeid, s in self.seconds.items()}
        write_whole(durations_file(), json.dumps(known, indent=0, sort_keys=True))


def save_typical() -> int:
    """TYPICAL_DURATIONS from this machine's last times (`make test-durations`); how many."""
    known = read_seconds(durations_file())
    if not known:
        raise SystemExit(f"no test times in {durations_file()}: run `make test` first")
    kept = typical(known)
    TYPICAL_DURATIONS.write_text(json.dumps(kept, indent=0) + "\n")
    return len(kept)


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller, or a session without workers
        config.pluginmanager.register(Recorder(), "rimac-test-durations")


if __name__ == "__main__":
    print(f"wrote {os.path.relpath(TYPICAL_DURATIONS)}: {save_typical()} tests' seconds")
