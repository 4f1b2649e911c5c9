"""Fault tests cause real faults (MySQL grants revoked, poison messages, an engine restart) on the
stack `make up` provisions, print what they did, and count what arrived where."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pymysql
import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.kit import Stack
from tests.support.api_client import AppointmentsApi


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


def holds(bodies: list[str], appointment_id: str) -> bool:
    return any(appointment_id in body for body in bodies)


@contextmanager
def mysql_refusing(admin: pymysql.connections.Connection, country: str) -> Iterator[None]:
    """The country user loses INSERT, and its open connections are closed so the loss is seen at
    once (MySQL checks database privileges when a connection starts using the schema)."""
    user, schema = names.mysql_user(country), names.schema(country)
    with admin.cursor() as cursor:
        cursor.execute(f"REVOKE INSERT ON {schema}.* FROM '{user}'@'%'")
        cursor.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (user,))
        for (connection_id,) in cursor.fetchall():
            cursor.execute(f"KILL {int(connection_id)}")
    try:
        yield
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"GRANT SELECT, INSERT ON {schema}.* TO '{user}'@'%'")
