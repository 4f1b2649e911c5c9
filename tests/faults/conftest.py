"""Fault tests cause real faults (MySQL grants revoked, poison messages, an engine restart), each
on a stage of its own (tests/support/stages.py), print what they did, and count what arrived where."""

from __future__ import annotations

from collections.abc import Callable

import pymysql
import pytest

from tests.support.deadlines import Deadlines
from tests.support.faults import FaultRig
from tests.support.stages import OwnStage


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print past pytest's capture: each fault test says what it did and what it counted."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"  [fault] {line}")

    return say


@pytest.fixture
def rig(
    stage: OwnStage,
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
    report: Callable[[str], None],
) -> FaultRig:
    """What a fault test works with, in one argument: its own stage (the module's `stage` mark)."""
    return FaultRig(stage, mysql_admin, deadlines, report)
