"""What the fault tests share: what each works with on the running stack, in one fixture's value,
and the faults they cause on MySQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pymysql

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.deadlines import Deadlines


@dataclass(frozen=True)
class FaultRig:
    """The stack a fault test breaks, and what it reads and says with (the `rig` fixture)."""

    api: AppointmentsApi  # the stack `make up` provisioned, with the kit's key
    sqs: Any
    stack: Stack
    kit_config: KitConfig
    mysql_admin: pymysql.connections.Connection
    deadlines: Deadlines
    report: Callable[[str], None]  # a line past pytest's capture: what the test did and counted


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
