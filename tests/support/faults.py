"""What the fault tests share: what each works with on the running stack, in one fixture's value,
and the faults they cause on MySQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pymysql

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.deadlines import Deadlines
from tests.support.stages import OwnStage


@dataclass(frozen=True)
class FaultRig:
    """The stage a fault test breaks (its own), and what it reads and says with (the `rig` fixture)."""

    stage: OwnStage
    mysql_admin: pymysql.connections.Connection
    deadlines: Deadlines
    report: Callable[[str], None]  # a line past pytest's capture: what the test did and counted

    @property
    def api(self) -> AppointmentsApi:  # the stage's API, with the stage's key
        return self.stage.api

    @property
    def stack(self) -> Stack:
        return self.stage.stack

    @property
    def kit_config(self) -> KitConfig:  # the stage's settings: its names, prefixes and waits
        return self.stage.config

    @cached_property
    def sqs(self) -> Any:
        return self.kit_config.client("sqs")

    def user(self, country: str) -> str:
        """The stage's own MySQL user of the country."""
        return self.stage.mysql_user(country)

    def refusing(self, country: str) -> AbstractContextManager[None]:
        return mysql_refusing(self.mysql_admin, country, self.user(country))


def holds(bodies: list[str], appointment_id: str) -> bool:
    return any(appointment_id in body for body in bodies)


@contextmanager
def mysql_refusing(admin: pymysql.connections.Connection, country: str, user: str) -> Iterator[None]:
    """The country's `user` loses INSERT, and its open connections are closed so the loss is seen
    at once (MySQL checks database privileges when a connection starts using the schema)."""
    schema = names.schema(country)
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
