"""`make db-users`: the SQL that makes each country's user on a real server, with the password a
statement parameter only, and the connection it writes to SSM."""

from __future__ import annotations

import ssl
from typing import Any

import pymysql
import pytest

from appointments.adapters.ssm import DB_PARAMETER_NAMES
from bootstrap import names
from bootstrap.config import KitError
from bootstrap.stack import db_users

PASSWORD = "generated-Password_1"  # noqa: S105 (a stand-in for secrets.token_urlsafe)


class RecordingCursor:
    """Takes statements as the driver would, and can refuse the n-th with MySQL's own text."""

    def __init__(self, refuse_at: int | None = None, said: str = "") -> None:
        self.executed: list[tuple[str, tuple[str, ...]]] = []
        self.refuse_at, self.said = refuse_at, said

    def execute(self, sql: str, args: tuple[str, ...]) -> None:
        if len(self.executed) == self.refuse_at:
            raise pymysql.err.ProgrammingError(1064, self.said)
        self.executed.append((sql, args))


class RecordingSsm:
    def __init__(self) -> None:
        self.written: dict[str, tuple[str, str]] = {}

    def put_parameter(self, Name: str, Value: str, Type: str, Overwrite: bool) -> None:  # noqa: N803
        assert Overwrite
        self.written[Name] = (Value, Type)


def create(cursor: RecordingCursor, ssm: RecordingSsm, user_host: str = "10.0.%") -> list[str]:
    passwords = iter(f"{PASSWORD}-{n}" for n in range(len(names.COUNTRIES)))
    return db_users.create_users(
        cursor,
        ssm,
        countries=names.COUNTRIES,
        user_host=user_host,
        functions_host="db.internal",
        port=3306,
        prefix="/p",
        make_password=lambda: next(passwords),
    )


@pytest.mark.parametrize("country", names.COUNTRIES)
def test_the_password_is_a_parameter_and_never_part_of_the_sql(country: str) -> None:
    statements = db_users.user_statements(country, "10.0.%", PASSWORD)

    assert all(PASSWORD not in statement.sql for statement in statements)
    assert [PASSWORD in statement.args for statement in statements] == [True, True, False]
    assert all(statement.sql.count("%s") == len(statement.args) for statement in statements)


@pytest.mark.parametrize("country", names.COUNTRIES)
def test_the_user_connects_over_tls_from_the_given_host_only(country: str) -> None:
    statements = db_users.user_statements(country, "10.0.%", PASSWORD)
    user = names.mysql_user(country)

    assert all(statement.args[:2] == (user, "10.0.%") for statement in statements)
    assert statements[0].sql.startswith("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s")
    assert statements[1].sql.startswith("ALTER USER %s@%s IDENTIFIED BY %s")  # an existing user too
    assert all(statement.sql.endswith(" REQUIRE SSL") for statement in statements[:2])


@pytest.mark.parametrize("country", names.COUNTRIES)
def test_the_user_may_read_and_add_rows_of_its_own_schema_and_nothing_more(country: str) -> None:
    grants = [s.sql for s in db_users.user_statements(country, "%", PASSWORD) if s.sql.startswith("GRANT")]

    assert grants == [f"GRANT SELECT, INSERT ON `{names.schema(country)}`.* TO %s@%s"]


@pytest.mark.parametrize("user_host", ["", "10.0.%'; DROP USER root; --", "a b", "x" * 256])
def test_a_user_host_that_is_no_mysql_host_is_refused(user_host: str) -> None:
    with pytest.raises(KitError, match="--user-host"):
        db_users.user_statements(names.COUNTRIES[0], user_host, PASSWORD)


def test_each_country_gets_its_own_password_on_mysql_and_in_ssm_as_a_securestring() -> None:
    cursor, ssm = RecordingCursor(), RecordingSsm()

    create(cursor, ssm)

    for n, country in enumerate(names.COUNTRIES):
        password = f"{PASSWORD}-{n}"
        parameters = names.db_parameter_names("/p", country)
        assert set(parameters) == set(DB_PARAMETER_NAMES)
        assert {name: ssm.written[name] for name in parameters.values()} == {
            parameters["host"]: ("db.internal", "String"),
            parameters["port"]: ("3306", "String"),
            parameters["user"]: (names.mysql_user(country), "String"),
            parameters["password"]: (password, "SecureString"),
            parameters["name"]: (names.schema(country), "String"),
        }
        assert [args for _, args in cursor.executed if password in args] == [
            (names.mysql_user(country), "10.0.%", password)
        ] * 2


def test_what_it_prints_names_each_user_and_never_a_password() -> None:
    lines = create(RecordingCursor(), RecordingSsm())

    assert len(lines) == len(names.COUNTRIES)
    for line, country in zip(lines, names.COUNTRIES, strict=True):
        assert line.startswith(f"{names.mysql_user(country)}@'10.0.%': REQUIRE SSL, SELECT, INSERT")
        assert PASSWORD not in line


def test_a_refused_statement_is_reported_without_the_password_it_quoted() -> None:
    cursor = RecordingCursor(refuse_at=1, said=f"syntax error near '{PASSWORD}-0' REQUIRE SSL' at line 1")

    with pytest.raises(KitError, match="MySQL refused") as refused:
        create(cursor, RecordingSsm())
    assert PASSWORD not in str(refused.value)


def test_the_admin_connection_requires_tls_unless_told_otherwise() -> None:
    required = db_users.admin_tls(None, require_tls=True)

    assert required is not None
    assert required.check_hostname
    assert required.verify_mode == ssl.CERT_REQUIRED
    assert db_users.admin_tls(None, require_tls=False) is None


def test_an_ssm_failure_after_mysql_says_to_run_again() -> None:
    class RefusingSsm(RecordingSsm):
        def put_parameter(self, **_: Any) -> None:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutParameter")

    with pytest.raises(KitError, match="run the command again") as refused:
        create(RecordingCursor(), RefusingSsm())
    assert PASSWORD not in str(refused.value)
