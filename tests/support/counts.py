"""Where appointments landed, counted: MySQL rows for given appointment ids, the schemas holding
one, the DLQs' depths."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymysql

from bootstrap import names
from bootstrap.stack.queries import queue_depth


def stored_rows(
    admin: pymysql.connections.Connection,
    country: str,
    appointment_ids: Sequence[str],
    table: str = "appointments",
) -> int:
    """How many of these appointments the country's schema holds (in `table`: the benchmark's
    plain chain has a table of its own)."""
    if not appointment_ids:
        return 0
    marks = ", ".join(["%s"] * len(appointment_ids))
    with admin.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {names.schema(country)}.{table} "  # noqa: S608 (a fixed name)
            f"WHERE appointment_id IN ({marks})",
            list(appointment_ids),
        )
        return int(cursor.fetchone()[0])


def stored_rows_per_country(
    admin: pymysql.connections.Connection, appointment_ids: Sequence[str], table: str = "appointments"
) -> dict[str, int]:
    """Country code (PE) -> how many of these appointments its schema holds."""
    return {country.value: stored_rows(admin, country, appointment_ids, table) for country in names.COUNTRIES}


def schemas_holding(admin: pymysql.connections.Connection, appointment_id: str) -> list[str]:
    """The schemas that hold the appointment, once per row: one when it landed where it belongs."""
    found = []
    with admin.cursor() as cursor:
        for schema in map(names.schema, names.COUNTRIES):
            cursor.execute(
                f"SELECT COUNT(*) FROM {schema}.appointments WHERE appointment_id = %s",  # noqa: S608
                (appointment_id,),
            )
            found += [schema] * cursor.fetchone()[0]
    return found


def dead_letter_depths(sqs: Any, outputs: dict[str, str]) -> dict[str, int]:
    """Each dead-letter queue's output key -> its messages, waiting or being received."""
    return {key: queue_depth(sqs, outputs[key]).total for key in names.DEAD_LETTER_QUEUE_OUTPUTS}
