"""The schema migrations against the real MySQL, each test in scratch schemas of its own (dropped
after): a database of the first version upgrades with its rows, one made by the schema file of
before the migrations is taken over unchanged, a second run applies nothing, a broken migration
is named and leaves those before it applied, and `make migrate` finds its schemas in SSM."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from appointments.adapters.mysql import SLOT_KEY
from bootstrap import names
from bootstrap.config import MIGRATIONS, ROOT, KitConfig, KitError
from bootstrap.dev.kit import Stack
from bootstrap.stack import migrations
from bootstrap.stack.queries import admin_connection
from tests.support.random_refs import random_insured_id, random_schedule_id

# The appointments table as the first version of the kit created it (mysql-init/, November 2026):
# no slot key, insured ids of up to 32, no rejections table.
FIRST_SCHEMA = """
CREATE TABLE appointments (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(32)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    country_iso    CHAR(2)         NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    stored_at      DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id),
    KEY appointments_by_insured (insured_id, created_at)
) ENGINE = InnoDB
"""

# The tables as mysql-init/001_appointments.sql made them, the last schema file before the
# migrations: everything the migrations end with, and no record of any migration.
SCHEMA_FILE_TABLES = [
    """
CREATE TABLE appointments (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    country_iso    CHAR(2)         NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    stored_at      DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id),
    UNIQUE KEY appointments_slot (schedule_id),
    KEY appointments_by_insured (insured_id, created_at)
) ENGINE = InnoDB
""",
    """
CREATE TABLE appointment_rejections (
    appointment_id CHAR(26)        NOT NULL,
    insured_id     VARCHAR(64)     NOT NULL,
    schedule_id    BIGINT UNSIGNED NOT NULL,
    created_at     DATETIME(3)     NOT NULL,
    rejected_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    PRIMARY KEY (appointment_id)
) ENGINE = InnoDB
""",
]
ALL_MIGRATIONS = migrations.migration_ids()
INSERT = (
    "INSERT INTO appointments (appointment_id, insured_id, schedule_id, country_iso, created_at)"
    " VALUES (%s, %s, %s, 'PE', UTC_TIMESTAMP(3))"
)

Scratch = Callable[..., str]


@pytest.fixture
def connect(kit_config: KitConfig) -> migrations.Connect:
    def open_as_admin(schema: str | None) -> pymysql.connections.Connection:
        return admin_connection(kit_config, database=schema, autocommit=True)

    return open_as_admin


@pytest.fixture
def scratch(connect: migrations.Connect) -> Iterator[Scratch]:
    """Makes scratch schemas with unique names, holding the given tables; drops them after."""
    made: list[str] = []

    def make(*tables: str) -> str:
        schema = f"it_migrate_{uuid.uuid4().hex[:12]}"
        made.append(schema)
        with connect(None) as server, server.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{schema}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        with connect(schema) as connection, connection.cursor() as cursor:
            for table in tables:
                cursor.execute(table)
        return schema

    yield make
    with connect(None) as server, server.cursor() as cursor:
        for schema in made:
            cursor.execute(f"DROP DATABASE IF EXISTS `{schema}`")


def query(connect: migrations.Connect, schema: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with connect(schema) as connection, connection.cursor() as cursor:
        cursor.execute(sql, args)
        return list(cursor.fetchall())


def keys(connect: migrations.Connect, schema: str, table: str = "appointments") -> dict[str, bool]:
    """Each index of the table -> whether it is unique."""
    rows = query(
        connect,
        schema,
        "SELECT DISTINCT index_name, non_unique = 0 FROM information_schema.statistics"
        " WHERE table_schema = %s AND table_name = %s",
        schema,
        table,
    )
    return {str(name): bool(unique) for name, unique in rows}


def tables(connect: migrations.Connect, schema: str) -> dict[str, str]:
    """Each table the kit's code uses -> its SHOW CREATE TABLE (yoyo's own tables left out)."""
    names_ = [row[0] for row in query(connect, schema, "SHOW TABLES")]
    return {
        name: query(connect, schema, f"SHOW CREATE TABLE `{name}`")[0][1]
        for name in names_
        if not name.startswith(("_yoyo", "yoyo"))
    }


def width(connect: migrations.Connect, schema: str) -> int:
    rows = query(
        connect,
        schema,
        "SELECT character_maximum_length FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'appointments' AND column_name = 'insured_id'",
        schema,
    )
    return int(rows[0][0])


def recorded(connect: migrations.Connect, schema: str) -> list[str]:
    rows = query(
        connect, schema, "SELECT migration_id FROM _yoyo_migration ORDER BY applied_at_utc, migration_id"
    )
    return [row[0] for row in rows]


def test_a_database_of_the_first_version_upgrades_keeping_its_rows_and_then_refuses_a_taken_slot(
    connect: migrations.Connect, scratch: Scratch
) -> None:
    schema = scratch(FIRST_SCHEMA)
    slots = [random_schedule_id() + n for n in range(3)]
    with connect(schema) as connection, connection.cursor() as cursor:
        for slot in slots:
            cursor.execute(INSERT, (uuid.uuid4().hex[:26].upper(), random_insured_id("MIG"), slot))
    before_rows = query(connect, schema, "SELECT appointment_id, insured_id, schedule_id FROM appointments")
    before_keys, before_tables, before_width = (
        keys(connect, schema),
        tables(connect, schema),
        width(connect, schema),
    )

    done = migrations.migrate_schema(connect, schema)

    after_rows = query(connect, schema, "SELECT appointment_id, insured_id, schedule_id FROM appointments")
    after_keys, after_tables, after_width = (
        keys(connect, schema),
        tables(connect, schema),
        width(connect, schema),
    )
    print(
        f"\nbefore: {len(before_rows)} rows, keys {before_keys}, tables {sorted(before_tables)}, "
        f"insured_id {before_width}\nafter:  {len(after_rows)} rows, keys {after_keys}, "
        f"tables {sorted(after_tables)}, insured_id {after_width}\n{done}"
    )
    assert before_keys == {"PRIMARY": True, "appointments_by_insured": False}
    assert done.applied == ALL_MIGRATIONS
    assert sorted(after_rows) == sorted(before_rows)
    assert after_keys == {"PRIMARY": True, "appointments_by_insured": False, SLOT_KEY: True}
    assert set(before_tables) == {"appointments"}
    assert set(after_tables) == {"appointments", "appointment_rejections"}
    assert (before_width, after_width) == (32, 64)
    with pytest.raises(pymysql.IntegrityError) as taken, connect(schema) as connection:
        connection.cursor().execute(
            INSERT, (uuid.uuid4().hex[:26].upper(), random_insured_id("MIG"), slots[0])
        )
    assert taken.value.args[0] == pymysql.constants.ER.DUP_ENTRY
    assert SLOT_KEY in taken.value.args[1]  # what the adapter reads to report SlotTaken
    long_insured = "L" * 64  # the first version's column held 32
    query(connect, schema, INSERT, uuid.uuid4().hex[:26].upper(), long_insured, random_schedule_id())


def test_a_second_run_applies_nothing_and_changes_nothing(
    connect: migrations.Connect, scratch: Scratch
) -> None:
    schema = scratch()
    first = migrations.migrate_schema(connect, schema)
    made = tables(connect, schema)

    again = migrations.migrate_schema(connect, schema)

    assert first.applied == ALL_MIGRATIONS
    assert again.applied == []
    assert str(again) == f"{schema}: schema up to date"
    assert tables(connect, schema) == made
    assert recorded(connect, schema) == ALL_MIGRATIONS


def test_a_database_made_by_the_schema_file_before_the_migrations_is_taken_over_unchanged(
    connect: migrations.Connect, scratch: Scratch
) -> None:
    """The local mysql_pe and mysql_cl, and any RDS schema applied by hand before: every migration
    is recorded and none alters a table (each is guarded, or IF NOT EXISTS)."""
    existing = scratch(*SCHEMA_FILE_TABLES)
    query(
        connect,
        existing,
        INSERT,
        uuid.uuid4().hex[:26].upper(),
        random_insured_id("MIG"),
        random_schedule_id(),
    )
    before = tables(connect, existing)
    fresh = scratch()

    done = migrations.migrate_schema(connect, existing)
    migrations.migrate_schema(connect, fresh)

    assert done.applied == ALL_MIGRATIONS
    assert tables(connect, existing) == before
    assert tables(connect, fresh) == before, "the migrations end with the schema file's tables"
    assert len(query(connect, existing, "SELECT * FROM appointments")) == 1


def test_an_upgrade_over_two_appointments_holding_one_slot_stops_at_the_slot_key_and_names_it(
    connect: migrations.Connect, scratch: Scratch
) -> None:
    schema = scratch(FIRST_SCHEMA)
    slot = random_schedule_id()
    for _ in range(2):
        query(connect, schema, INSERT, uuid.uuid4().hex[:26].upper(), random_insured_id("MIG"), slot)

    with pytest.raises(
        KitError, match=r"migration 0003_appointments_slot_key failed: Duplicate entry"
    ) as failed:
        migrations.migrate_schema(connect, schema)

    print(f"\n{failed.value}")
    assert recorded(connect, schema) == ALL_MIGRATIONS[:2]
    assert SLOT_KEY not in keys(connect, schema)


def test_a_broken_migration_is_named_the_ones_before_it_stay_applied_and_the_fix_is_applied_next(
    connect: migrations.Connect, scratch: Scratch, tmp_path: Path
) -> None:
    for migration in ALL_MIGRATIONS[:2]:
        shutil.copy(MIGRATIONS / f"{migration}.sql", tmp_path)
    broken = tmp_path / "0003_broken.sql"
    broken.write_text("ALTER TABLE appointments ADD COLUMN note TEXTT;\n")
    schema = scratch()

    with pytest.raises(KitError) as failed:
        migrations.migrate_schema(connect, schema, tmp_path)

    message = str(failed.value)
    print(f"\n{message}")
    assert f"{schema}: migration 0003_broken failed: " in message
    assert f"applied before it: {', '.join(ALL_MIGRATIONS[:2])}" in message
    assert recorded(connect, schema) == ALL_MIGRATIONS[:2]
    assert "appointments" in tables(connect, schema)

    broken.write_text("ALTER TABLE appointments ADD COLUMN note TEXT;\n")
    fixed = migrations.migrate_schema(connect, schema, tmp_path)

    assert fixed.applied == ["0003_broken"]
    assert recorded(connect, schema) == [*ALL_MIGRATIONS[:2], "0003_broken"]


def migrate_command(kit_config: KitConfig, prefix: str) -> subprocess.CompletedProcess[str]:
    """`make migrate` as a user runs it, pointed at the tests' engine and the local MySQL."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "bootstrap",
            "migrate",
            f"--host={kit_config.mysql_host}",
            f"--port={kit_config.mysql_port}",
            f"--admin-user={kit_config.mysql_user}",
            "--allow-plaintext",
            f"--endpoint={kit_config.endpoint}",
            f"--db-parameters-prefix={prefix}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DB_ADMIN_PASSWORD": kit_config.mysql_password},
        check=False,
    )


def test_make_migrate_migrates_the_schemas_ssm_names_and_says_each_migration_it_applies(
    kit_config: KitConfig, stack: Stack, connect: migrations.Connect, scratch: Scratch
) -> None:
    ssm = kit_config.client("ssm")
    prefix = f"/it/migrate-{uuid.uuid4().hex[:12]}"
    schemas = {country: scratch() for country in names.COUNTRIES}
    parameters = {country: names.db_parameter_names(prefix, country)["name"] for country in names.COUNTRIES}
    missing = migrate_command(kit_config, prefix)
    for country, parameter in parameters.items():
        ssm.put_parameter(Name=parameter, Value=schemas[country], Type="String", Overwrite=True)
    try:
        first = migrate_command(kit_config, prefix)
        again = migrate_command(kit_config, prefix)
    finally:
        ssm.delete_parameters(Names=list(parameters.values()))

    print(f"\n{first.stdout}{again.stdout}")
    assert missing.returncode == 1
    assert f"{parameters[names.COUNTRIES[0]]} does not exist" in missing.stderr
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        f"{schemas[country]}: applied {migration}"
        for country in names.COUNTRIES
        for migration in ALL_MIGRATIONS
    ]
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        f"{schemas[country]}: schema up to date" for country in names.COUNTRIES
    ]
    for schema in schemas.values():
        assert recorded(connect, schema) == ALL_MIGRATIONS
