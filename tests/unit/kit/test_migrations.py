"""The schema migrations as files: one ordered set, and the schema it ends with is the one the
MySQL adapter writes to and reads its SlotTaken fact from. (Applying them: the integration tests.)"""

from __future__ import annotations

import re

import pytest

from appointments.adapters.mysql import SLOT_KEY, MySqlCountryUnitOfWork
from bootstrap.config import MIGRATIONS, KitError
from bootstrap.stack import migrations

NUMBERED = re.compile(r"(\d{4})_[a-z0-9_]+")


def migrations_text() -> str:
    """Every migration's SQL in the order applied, comments left out."""
    return "\n".join(
        re.sub(r"--[^\n]*", "", (MIGRATIONS / f"{migration}.sql").read_text())
        for migration in migrations.migration_ids()
    )


def test_the_migrations_are_numbered_one_after_another_and_applied_in_that_order() -> None:
    ids = migrations.migration_ids()
    numbers = [int(NUMBERED.fullmatch(migration).group(1)) for migration in ids]  # type: ignore[union-attr]

    assert ids == sorted(ids)
    assert numbers == list(range(1, len(ids) + 1))
    assert {path.stem for path in MIGRATIONS.iterdir()} == set(ids), "only migrations in the folder"


def test_the_first_migration_is_the_first_schema_without_the_slot_key() -> None:
    """A database made by the first version upgrades through every later migration."""
    first = (MIGRATIONS / f"{migrations.migration_ids()[0]}.sql").read_text()

    assert "CREATE TABLE IF NOT EXISTS appointments (" in first
    assert SLOT_KEY not in first
    assert "appointment_rejections" not in first


def test_the_migrations_end_with_the_slot_key_the_adapter_reads_to_report_slot_taken() -> None:
    text = migrations_text()

    assert f"ADD UNIQUE KEY {SLOT_KEY} (schedule_id)" in text
    assert f"index_name = '{SLOT_KEY}'" in text, "added only where it is missing"


@pytest.mark.parametrize(
    "statement", [MySqlCountryUnitOfWork.INSERT, MySqlCountryUnitOfWork.INSERT_REJECTION]
)
def test_every_table_and_column_the_adapter_writes_is_created_by_the_migrations(statement: str) -> None:
    written = re.match(r"INSERT INTO (\w+) \(([^)]*)\)", statement)
    assert written is not None
    table, columns = written.group(1), [column.strip() for column in written.group(2).split(",")]
    created = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\) ENGINE", migrations_text(), re.DOTALL)

    assert created is not None, f"no migration creates {table}"
    for column in columns:
        assert re.search(rf"^\s*{column}\s", created.group(1), re.MULTILINE), f"{table}.{column}"


def test_a_percent_sign_in_a_migration_is_doubled() -> None:
    """yoyo hands each statement to PyMySQL with an empty parameter mapping, which formats it:
    a single % would be read as a placeholder."""
    assert "%" not in migrations_text().replace("%%", "")


def test_a_schema_name_that_is_not_a_plain_identifier_is_refused_before_any_connection() -> None:
    def connect(schema: str | None) -> None:
        raise AssertionError("connected")

    with pytest.raises(KitError, match="letters, digits and _ only"):
        migrations.migrate_schema(connect, "mysql_pe`; DROP DATABASE x; --")
