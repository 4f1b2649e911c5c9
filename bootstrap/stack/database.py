"""The local MySQL made ready for the stack: the server checked, the schemas migrated, mysql-init's scripts applied."""

from __future__ import annotations

from pathlib import Path

import pymysql
from pymysql.constants import CLIENT

from bootstrap.config import (
    LOCAL_COUNTRY_DATABASES,
    MYSQL_INIT,
    MYSQL_LOCAL_USERS,
    KitConfig,
    KitError,
)
from bootstrap.stack import migrations
from bootstrap.stack.queries import admin_connection


def check_mysql(config: KitConfig) -> str:
    """Connect as the admin user; returns the server version."""
    try:
        # read_timeout: a program on that port that is not MySQL never sends a greeting.
        connection = admin_connection(config, connect_timeout=3, read_timeout=5)
    except pymysql.MySQLError as error:
        raise KitError(
            f"MySQL is not answering on {config.mysql_host}:{config.mysql_port} as {config.mysql_user!r} "
            f"({error.args[-1]}); start it (MariaDB: start-stop-daemon --start --oknodo --background "
            f'--exec "$(command -v mariadbd)") or set MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_PASSWORD'
        ) from None
    with connection:
        return str(connection.get_server_info())


def mysql_init_scripts() -> list[Path]:
    """The local MySQL's users (mysql-init/local/*.sql) in name order, applied after the
    migrations; the schemas are the migrations' (bootstrap/stack/migrations.py)."""
    return sorted(MYSQL_LOCAL_USERS.glob("*.sql"))


def migrate_local(config: KitConfig) -> list[migrations.SchemaMigrated]:
    """Every local country schema created when missing and brought to the last migration, as
    the admin user."""

    def connect(schema: str | None) -> pymysql.connections.Connection:
        return admin_connection(config, database=schema, connect_timeout=3)

    return migrations.migrate(connect, [database.schema for database in LOCAL_COUNTRY_DATABASES])


def apply_mysql_init(config: KitConfig) -> list[str]:
    """Run mysql_init_scripts() as the admin user; the scripts are safe to re-run."""
    scripts = mysql_init_scripts()
    connection = admin_connection(config, client_flag=CLIENT.MULTI_STATEMENTS, autocommit=True)
    with connection, connection.cursor() as cursor:
        for script in scripts:
            try:
                cursor.execute(script.read_text())
                while cursor.nextset():
                    pass
            except pymysql.MySQLError as error:
                raise KitError(
                    f"{script.relative_to(MYSQL_INIT)} failed on MySQL: {error.args[-1]}"
                ) from None
    return [str(script.relative_to(MYSQL_INIT)) for script in scripts]
