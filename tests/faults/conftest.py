"""Fault tests cause real faults (MySQL grants revoked, poison messages, an engine restart) on the
stack `make up` provisions, print what they did, and count what arrived where."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pymysql
import pytest

from bootstrap.config import KitConfig
from bootstrap.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.deadlines import Deadlines
from tests.support.faults import FaultRig


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "after_every_flow: reads what the other tests left (every function's log); runs last"
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads what the others left runs after them, whatever its file is called."""
    last = [item for item in items if item.get_closest_marker("after_every_flow")]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture
def api(stack: Stack) -> AppointmentsApi:
    return AppointmentsApi(stack.api_url, stack.api_key)


@pytest.fixture
def sqs(kit_config: KitConfig, stack: Stack) -> Any:
    return kit_config.client("sqs")


@pytest.fixture
def report(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Print past pytest's capture: each fault test says what it did and what it counted."""

    def say(line: str) -> None:
        with capsys.disabled():
            print(f"  [fault] {line}")

    return say


@pytest.fixture
def rig(
    api: AppointmentsApi,
    sqs: Any,
    stack: Stack,
    kit_config: KitConfig,
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
    report: Callable[[str], None],
) -> FaultRig:
    """What a fault test works with, in one argument."""
    return FaultRig(api, sqs, stack, kit_config, mysql_admin, deadlines, report)
