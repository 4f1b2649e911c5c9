"""Shared fixtures. The test level is the folder: tests/unit, tests/integration, tests/e2e."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from bootstrap import engine, kit
from bootstrap.config import KitConfig

LEVELS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        level = Path(item.path).parent.name
        if level in LEVELS:
            item.add_marker(level)


@pytest.fixture(scope="session")
def kit_config() -> KitConfig:
    return KitConfig.from_env()


@pytest.fixture(scope="session")
def stack(kit_config: KitConfig) -> Iterator[kit.Stack]:
    """The provisioned stack: reused when it is running, otherwise started here and stopped after."""
    deployed = kit.up(kit_config, kit.Progress())
    yield deployed
    if deployed.engine_started:
        engine.stop()


@pytest.fixture
def mysql_admin(kit_config: KitConfig) -> Iterator[pymysql.connections.Connection]:
    connection = pymysql.connect(
        host=kit_config.mysql_host,
        port=kit_config.mysql_port,
        user=kit_config.mysql_user,
        password=kit_config.mysql_password,
        autocommit=True,
    )
    with connection:
        yield connection
