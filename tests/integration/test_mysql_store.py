"""The MySQL adapter with its settings read from SSM, against the real server and engine: what is
particular to MySQL (the facts it shares with the fake are in test_port_contracts.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest

from appointments.adapters.mysql import MySqlCountryUnitOfWork
from appointments.adapters.ssm import DB_PARAMETER_NAMES, MissingDbParameter, MySqlSettings, SsmMySqlSettings
from appointments.domain import Appointment, Country, StoreUnavailable
from bootstrap import names
from bootstrap.config import LOCAL_COUNTRY_DATABASES, KitConfig
from bootstrap.dev.kit import Stack
from tests.support.appointments import appointment
from tests.support.silent_server import silent_server

PE_SCHEMA, CL_SCHEMA = names.schema(Country.PE), names.schema(Country.CL)


def settings_for(kit_config: KitConfig, country: str) -> MySqlSettings:
    return SsmMySqlSettings(names.db_parameters_path(kit_config.db_parameters_prefix, country), max_age=0)()


@pytest.fixture
def pe_uow(kit_config: KitConfig, stack: Stack, engine_env: None) -> Iterator[MySqlCountryUnitOfWork]:
    uow = MySqlCountryUnitOfWork(
        SsmMySqlSettings(names.db_parameters_path(kit_config.db_parameters_prefix, Country.PE), max_age=0)
    )
    yield uow
    uow.close()


def store(uow: MySqlCountryUnitOfWork, item: Appointment) -> None:
    with uow:
        uow.add_appointment(item)
        uow.commit()


def rows(
    admin: pymysql.connections.Connection, schema: str, appointment_id: str, table: str = "appointments"
) -> list[tuple[object, ...]]:
    with admin.cursor() as cursor:
        cursor.execute(
            f"SELECT insured_id, schedule_id, created_at FROM {schema}.{table}"  # noqa: S608
            " WHERE appointment_id = %s",
            (appointment_id,),
        )
        return list(cursor.fetchall())


def test_ssm_gives_each_country_its_own_user_schema_and_decrypted_password(
    kit_config: KitConfig, stack: Stack, engine_env: None
) -> None:
    for database in LOCAL_COUNTRY_DATABASES:
        settings = settings_for(kit_config, database.country)

        assert (settings.user, settings.database, settings.password) == (
            database.user,
            database.schema,
            database.password,
        )
        assert (settings.host, settings.port) == (kit_config.mysql_host, kit_config.mysql_port)
        assert database.password not in repr(settings)


def test_a_path_without_parameters_is_reported_by_name(stack: Stack, engine_env: None) -> None:
    with pytest.raises(MissingDbParameter, match="missing SSM parameters under /nowhere: host, port"):
        SsmMySqlSettings("/nowhere", max_age=0)()


def test_an_appointment_is_written_to_its_own_country_schema_with_its_fields(
    pe_uow: MySqlCountryUnitOfWork, mysql_admin: pymysql.connections.Connection
) -> None:
    item = appointment("ITMYSQL1")

    store(pe_uow, item)

    expected = [("ITMYSQL1", item.schedule_id, item.created_at.replace(tzinfo=None))]  # UTC, to the ms
    assert rows(mysql_admin, PE_SCHEMA, item.appointment_id) == expected
    assert rows(mysql_admin, CL_SCHEMA, item.appointment_id) == []


def test_sql_injection_strings_are_stored_as_data(
    pe_uow: MySqlCountryUnitOfWork, mysql_admin: pymysql.connections.Connection
) -> None:
    hostile = "x'); DROP TABLE appointments; --"
    item = appointment(hostile)

    store(pe_uow, item)

    assert rows(mysql_admin, PE_SCHEMA, item.appointment_id)[0][0] == hostile
    with mysql_admin.cursor() as cursor:
        assert cursor.execute(f"SHOW TABLES FROM {PE_SCHEMA} LIKE 'appointments'") == 1


@pytest.fixture
def own_pe_user(
    kit_config: KitConfig, stack: Stack, engine_env: None, mysql_admin: pymysql.connections.Connection
) -> Iterator[tuple[str, str]]:
    """A PE user of this test's own, granted what the kit's is, with its settings under an SSM path
    of its own: the connections it kills are its own, never a processor's. Yields (path, user)."""
    user = f"rimac_it_{uuid.uuid4().hex[:12]}"
    password = uuid.uuid4().hex
    path = f"/it/{uuid.uuid4().hex[:12]}"
    ssm = kit_config.client("ssm")
    with mysql_admin.cursor() as cursor:
        cursor.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (user, password))
        cursor.execute(f"GRANT SELECT, INSERT ON {PE_SCHEMA}.* TO %s@'%%'", (user,))
    source = names.db_parameter_names(kit_config.db_parameters_prefix, Country.PE)
    values = {"user": user, "password": password}
    for name in DB_PARAMETER_NAMES:
        kept = ssm.get_parameter(Name=source[name], WithDecryption=True)["Parameter"]
        ssm.put_parameter(
            Name=f"{path}/{name}", Value=values.get(name, kept["Value"]), Type=kept["Type"], Overwrite=True
        )
    yield path, user
    ssm.delete_parameters(Names=[f"{path}/{name}" for name in DB_PARAMETER_NAMES])
    with mysql_admin.cursor() as cursor:
        cursor.execute("DROP USER %s@'%%'", (user,))


def test_the_store_reconnects_after_the_server_drops_its_connection(
    own_pe_user: tuple[str, str], mysql_admin: pymysql.connections.Connection
) -> None:
    path, user = own_pe_user
    uow = MySqlCountryUnitOfWork(SsmMySqlSettings(path, max_age=0))
    store(uow, appointment("ITMYSQL2"))
    with mysql_admin.cursor() as cursor:
        cursor.execute("SELECT id FROM information_schema.processlist WHERE user = %s", (user,))
        killed = [connection_id for (connection_id,) in cursor.fetchall()]
        for connection_id in killed:
            cursor.execute(f"KILL {int(connection_id)}")

    again = appointment("ITMYSQL2")
    store(uow, again)
    uow.close()
    assert len(killed) == 1  # the unit of work's connection, and only it
    assert len(rows(mysql_admin, PE_SCHEMA, again.appointment_id)) == 1


def test_a_country_user_cannot_touch_the_other_countrys_schema(
    kit_config: KitConfig, stack: Stack, engine_env: None
) -> None:
    pe = settings_for(kit_config, Country.PE)
    connection = pymysql.connect(host=pe.host, port=pe.port, user=pe.user, password=pe.password)
    with connection, connection.cursor() as cursor, pytest.raises(pymysql.OperationalError, match="denied"):
        cursor.execute(f"SELECT COUNT(*) FROM {CL_SCHEMA}.appointments")  # noqa: S608


@pytest.fixture
def scratch_path(kit_config: KitConfig, stack: Stack, engine_env: None) -> Iterator[tuple[str, Any]]:
    """A throw-away copy of the PE parameters, to break and fix without touching the stack's."""
    ssm = kit_config.client("ssm")
    path = f"/it/{uuid.uuid4().hex[:12]}"
    source = names.db_parameter_names(kit_config.db_parameters_prefix, Country.PE)
    for name in DB_PARAMETER_NAMES:
        kept = ssm.get_parameter(Name=source[name], WithDecryption=True)["Parameter"]
        ssm.put_parameter(Name=f"{path}/{name}", Value=kept["Value"], Type=kept["Type"], Overwrite=True)
    yield path, ssm
    ssm.delete_parameters(Names=[f"{path}/{name}" for name in DB_PARAMETER_NAMES])


def test_a_refused_connection_drops_the_cached_settings_so_the_fix_is_read_next_time(
    scratch_path: tuple[str, Any], mysql_admin: pymysql.connections.Connection
) -> None:
    path, ssm = scratch_path
    port = ssm.get_parameter(Name=f"{path}/port")["Parameter"]["Value"]
    ssm.put_parameter(Name=f"{path}/port", Value="1", Type="String", Overwrite=True)
    uow = MySqlCountryUnitOfWork(SsmMySqlSettings(path, max_age=300), unavailable_for=0)  # cached 5 min

    with pytest.raises(StoreUnavailable), uow:
        pass
    ssm.put_parameter(Name=f"{path}/port", Value=port, Type="String", Overwrite=True)
    item = appointment("ITMYSQL6")
    store(uow, item)  # the fixed port is read at once, not after the cache's age
    uow.close()

    assert len(rows(mysql_admin, PE_SCHEMA, item.appointment_id)) == 1


class CountedReads:
    """A settings source that counts its reads: the unit of work reads it before each connection
    attempt, and only then."""

    def __init__(self, source: SsmMySqlSettings) -> None:
        self.source, self.reads = source, 0

    def __call__(self) -> MySqlSettings:
        self.reads += 1
        return self.source()

    def forget(self) -> None:
        self.source.forget()


def test_a_host_that_never_answers_fails_within_the_timeout_and_the_next_attempts_fail_without_trying(
    scratch_path: tuple[str, Any], mysql_admin: pymysql.connections.Connection
) -> None:
    path, ssm = scratch_path
    kept = {name: ssm.get_parameter(Name=f"{path}/{name}")["Parameter"]["Value"] for name in ("host", "port")}
    timeout, now = 1, [0.0]  # the unit of work's clock for `unavailable_for`, moved by the test
    settings = CountedReads(SsmMySqlSettings(path, max_age=300))
    uow = MySqlCountryUnitOfWork(settings, timeout=timeout, unavailable_for=5, clock=lambda: now[0])

    with silent_server() as (host, port):
        ssm.put_parameter(Name=f"{path}/host", Value=host, Type="String", Overwrite=True)
        ssm.put_parameter(Name=f"{path}/port", Value=str(port), Type="String", Overwrite=True)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="cannot reach"), uow:
            pass
        first = time.monotonic() - started
        now[0] += 4.9
        # what it could not reach is named again, so the line logged for the record says where
        with (
            pytest.raises(
                StoreUnavailable, match=rf"^{PE_SCHEMA} on {host}:{port} failed a moment ago; not tried"
            ),
            uow,
        ):
            pass

    # The connect and the greeting are each bounded by the timeout, not for ever; a loaded machine
    # and the SSM read get as long again.
    assert first < 4 * timeout
    assert settings.reads == 1  # the second attempt, within unavailable_for, made no connection
    for name, value in kept.items():
        ssm.put_parameter(Name=f"{path}/{name}", Value=value, Type="String", Overwrite=True)
    now[0] += 0.1
    item = appointment("ITMYSQL7")
    store(uow, item)  # unavailable_for has passed: the settings, dropped on the failure, are read again
    uow.close()
    assert settings.reads == 2
    assert len(rows(mysql_admin, PE_SCHEMA, item.appointment_id)) == 1
