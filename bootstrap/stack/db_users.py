"""`make db-users`: each country's MySQL user on a real server (RDS), with a generated password,
and its connection written to SSM where the processors read it.

The local kit's users (mysql-init/local/) have their passwords in the repository; these get a
password made here, which only the server and the SecureString hold: it goes to MySQL as a
statement parameter and to SSM, never into a message or a file. Run it again to rotate them.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pymysql
from botocore.exceptions import BotoCoreError, ClientError

from bootstrap import names
from bootstrap.config import KitError, StackConfig
from bootstrap.stack import parameters
from bootstrap.stack.queries import admin_tls

PASSWORD_BYTES = 24  # token_urlsafe: 32 characters of A-Z a-z 0-9 - _
ANY_HOST = "%"  # anywhere: the default of `db-users --user-host`
# A MySQL account host: an address, a name, or a pattern with % and _ (10.0.%).
ACCOUNT_HOST = re.compile(r"[A-Za-z0-9.%_:-]{1,255}")


@dataclass(frozen=True)
class Statement:
    """SQL with %s placeholders and the values the driver escapes into them."""

    sql: str
    args: tuple[str, ...]


def user_statements(country: str, user_host: str, password: str) -> list[Statement]:
    """The country's user at `user_host`, over TLS only, with `password` (a parameter, never part
    of the SQL text), allowed to read and add rows of its own schema and nothing else."""
    if not ACCOUNT_HOST.fullmatch(user_host):
        raise KitError(
            f"--user-host {user_host!r} is not a MySQL host: an address, a name or a pattern (10.0.%)"
        )
    user = names.mysql_user(country)
    return [
        Statement(
            "CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s REQUIRE SSL", (user, user_host, password)
        ),
        # an existing user gets the new password and the TLS requirement as well
        Statement("ALTER USER %s@%s IDENTIFIED BY %s REQUIRE SSL", (user, user_host, password)),
        Statement(f"GRANT SELECT, INSERT ON `{names.schema(country)}`.* TO %s@%s", (user, user_host)),
    ]


def create_users(
    cursor: Any,
    ssm: Any,
    *,
    countries: Sequence[str],
    user_host: str,
    functions_host: str,
    port: int,
    prefix: str,
    make_password: Callable[[], str] = lambda: secrets.token_urlsafe(PASSWORD_BYTES),
) -> list[str]:
    """For each country: the user on MySQL, then its five parameters in SSM; one line each."""
    done = []
    for country in countries:
        password = make_password()
        user, schema = names.mysql_user(country), names.schema(country)
        for statement in user_statements(country, user_host, password):
            try:
                cursor.execute(statement.sql, statement.args)
            except pymysql.MySQLError as error:
                # a syntax error quotes the statement from where it failed: keep the password out
                said = str(error.args[-1]).replace(password, "<password>")
                raise KitError(f"MySQL refused {user}@'{user_host}': {said}") from None
        values = parameters.connection_parameter_values(functions_host, port, user, password, schema)
        try:
            written = parameters.put_country_parameters(ssm, prefix, country, values)
        except (BotoCoreError, ClientError) as error:
            raise KitError(
                f"{user}@'{user_host}' has a new password on MySQL that could not be written to SSM "
                f"({error}); run the command again, which makes another"
            ) from None
        done.append(
            f"{user}@'{user_host}': REQUIRE SSL, SELECT, INSERT on {schema}; "
            f"{len(written)} parameters under {names.db_parameters_path(prefix, country)} "
            "(the password a SecureString)"
        )
    return done


def db_users(
    config: StackConfig,
    *,
    host: str,
    port: int,
    admin_user: str,
    admin_password: str,
    user_host: str,
    functions_host: str | None,
    ssl_ca: str | None,
    require_tls: bool,
) -> list[str]:
    """Connect as the admin user and create (or rotate) every country's user."""
    try:
        connection = pymysql.connect(
            host=host,
            port=port,
            user=admin_user,
            password=admin_password,
            ssl=admin_tls(ssl_ca, require_tls),
            connect_timeout=10,
            autocommit=True,
        )
    except pymysql.MySQLError as error:
        raise KitError(f"MySQL at {host}:{port} refused {admin_user!r}: {error.args[-1]}") from None
    with connection, connection.cursor() as cursor:
        return create_users(
            cursor,
            config.client("ssm"),
            countries=names.COUNTRIES,
            user_host=user_host,
            functions_host=functions_host or host,
            port=port,
            prefix=config.db_parameters_prefix,
        )
