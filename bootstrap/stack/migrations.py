"""The country schemas' migrations: one ordered set of plain SQL files (mysql-init/migrations/),
applied to each country's schema by yoyo-migrations as the MySQL admin user.

yoyo keeps what it applied in the schema itself (`_yoyo_migration`, `_yoyo_log`, and a lock row
in `yoyo_lock` while it runs), keyed by each file's name without `.sql`: a file is applied once,
in name order, and a run that finds nothing pending changes nothing. The same code serves
`make up` (the local MySQL) and `make migrate` (a real server, its schemas named by SSM).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pymysql
from pymysql.constants import ER
from yoyo import exceptions, read_migrations
from yoyo.backends.core.mysql import MySQLBackend
from yoyo.connections import DatabaseURI
from yoyo.migrations import default_migration_table

from bootstrap import names
from bootstrap.config import MIGRATIONS, KitError, StackConfig
from bootstrap.stack.queries import admin_tls

# Opens an admin connection with this default schema (None: no schema, to create one).
Connect = Callable[[str | None], Any]

CHARSET = "utf8mb4"
COLLATION = "utf8mb4_unicode_ci"
SCHEMA_NAME = re.compile(r"[A-Za-z0-9_]{1,64}")  # quoted into CREATE DATABASE, so nothing else
LOCK_TIMEOUT = 30  # seconds another run of the migrations may hold a schema's lock


@dataclass(frozen=True)
class SchemaMigrated:
    """What one run did to one schema: the migrations applied, in order."""

    schema: str
    applied: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.applied:
            return f"{self.schema}: schema up to date"
        return f"{self.schema}: applied {', '.join(self.applied)}"


class _AdminBackend(MySQLBackend):  # type: ignore[misc]
    """yoyo's MySQL backend (PyMySQL) on connections the kit opens, so TLS and timeouts are the
    kit's own and the admin password never goes into a URL."""

    def __init__(self, connect: Connect, schema: str) -> None:
        self._open = connect
        uri = DatabaseURI("mysql", None, None, None, None, schema, {})
        super().__init__(uri, default_migration_table)

    def connect(self, dburi: DatabaseURI) -> Any:
        return self._open(dburi.database)

    def copy(self) -> _AdminBackend:  # yoyo runs each migration on a connection of its own
        return _AdminBackend(self._open, self.uri.database)

    def savepoint_rollback(self, id: str) -> None:
        """yoyo puts each statement under a savepoint, and undoes a failed one to it. MySQL
        commits at each DDL statement, which ends the savepoints too: the undo would then fail
        (SAVEPOINT does not exist) in place of the statement's own error, which is the one to
        report. There is nothing left to undo then."""
        try:
            super().savepoint_rollback(id)
        except pymysql.OperationalError as error:
            if error.args[0] != ER.SP_DOES_NOT_EXIST:
                raise


def migration_ids(folder: Path = MIGRATIONS) -> list[str]:
    """The migrations in the order they are applied: by file name."""
    return [migration.id for migration in read_migrations(str(folder))]


def migrate_schema(
    connect: Connect,
    schema: str,
    folder: Path = MIGRATIONS,
    on_applied: Callable[[str, str], None] = lambda schema, migration: None,
) -> SchemaMigrated:
    """Create the schema when missing, then apply its pending migrations one by one.

    A migration that fails stops the run with its name and MySQL's message; those before it stay
    applied and recorded, so the next run starts from it."""
    if not SCHEMA_NAME.fullmatch(schema):
        raise KitError(f"{schema!r} is not a schema name the kit uses: letters, digits and _ only")
    with connect(None) as server, server.cursor() as cursor:
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{schema}` CHARACTER SET {CHARSET} COLLATE {COLLATION}"
        )
    migrations = read_migrations(str(folder))
    done = SchemaMigrated(schema)
    try:
        backend = _AdminBackend(connect, schema)
        backend.init_database()
    except pymysql.MySQLError as error:
        raise KitError(f"{schema}: the migrations could not start: {error.args[-1]}") from None
    with backend:
        try:
            with backend.lock(timeout=LOCK_TIMEOUT):
                for migration in backend.to_apply(migrations):
                    try:
                        backend.apply_one(migration)
                    except pymysql.MySQLError as error:
                        before = f"; applied before it: {', '.join(done.applied)}" if done.applied else ""
                        raise KitError(
                            f"{schema}: migration {migration.id} failed: {error.args[-1]}{before}. "
                            "Fix the cause and migrate again: it is the next one applied"
                        ) from None
                    done.applied.append(migration.id)
                    on_applied(schema, migration.id)
        except exceptions.LockTimeout as error:
            raise KitError(
                f"{schema}: another run of the migrations holds its lock ({error}); when none runs, "
                f"empty the table {schema}.{backend.lock_table}"
            ) from None
    return done


def migrate(
    connect: Connect,
    schemas: Sequence[str],
    folder: Path = MIGRATIONS,
    on_applied: Callable[[str, str], None] = lambda schema, migration: None,
) -> list[SchemaMigrated]:
    """Every schema in turn, each to the last migration."""
    return [migrate_schema(connect, schema, folder, on_applied) for schema in schemas]


def schema_names(ssm: Any, prefix: str, countries: Sequence[str] = names.COUNTRIES) -> list[str]:
    """Each country's schema as its processors are told it: the `name` parameter under prefix."""
    schemas = []
    for country in countries:
        parameter = names.db_parameter_names(prefix, country)["name"]
        try:
            schemas.append(str(ssm.get_parameter(Name=parameter)["Parameter"]["Value"]))
        except ssm.exceptions.ParameterNotFound:
            raise KitError(
                f"{parameter} does not exist: `make db-users` writes it (or put it yourself)"
            ) from None
    return schemas


def migrate_server(
    config: StackConfig,
    *,
    host: str,
    port: int,
    admin_user: str,
    admin_password: str,
    ssl_ca: str | None,
    require_tls: bool,
    on_applied: Callable[[str, str], None],
) -> list[SchemaMigrated]:
    """`make migrate`: the schemas named in SSM (of `config`), on a real server, as its admin."""
    schemas = schema_names(config.client("ssm"), config.db_parameters_prefix)
    tls = admin_tls(ssl_ca, require_tls)

    def connect(schema: str | None) -> Any:
        try:
            return pymysql.connect(
                host=host,
                port=port,
                user=admin_user,
                password=admin_password,
                database=schema,
                ssl=tls,
                connect_timeout=10,
            )
        except pymysql.MySQLError as error:
            raise KitError(f"MySQL at {host}:{port} refused {admin_user!r}: {error.args[-1]}") from None

    return migrate(connect, schemas, on_applied=on_applied)
