"""The MySQL adapter with its settings read from SSM, against the real server and engine."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import pymysql
import pytest

from appointments.adapters.mysql import (
    MissingDbParameter,
    MySqlAppointmentStore,
    MySqlSettings,
    mysql_settings_from_ssm,
)
from appointments.domain import Appointment, AppointmentRequest, Country, SlotOutcome
from appointments.services import new_appointment_id
from bootstrap.config import KitConfig
from bootstrap.kit import Stack


def settings_for(kit_config: KitConfig, country: str) -> MySqlSettings:
    return mysql_settings_from_ssm(f"{kit_config.db_parameters_prefix}/{country}", max_age=0)


@pytest.fixture
def pe_store(kit_config: KitConfig, stack: Stack, engine_env: None) -> Iterator[MySqlAppointmentStore]:
    store = MySqlAppointmentStore(lambda: settings_for(kit_config, "pe"))
    yield store
    store.close()


def appointment(insured: str, country: Country = Country.PE, schedule: int | None = None) -> Appointment:
    """A fresh slot each time unless `schedule` is given: MySQL holds each slot once, across runs."""
    return Appointment.pending(
        new_appointment_id(),
        AppointmentRequest(insured, schedule or random.randrange(10**12, 10**13), country),
        datetime(2026, 11, 27, 12, 0, 0, 123000, tzinfo=UTC),
    )


class Announcements:
    def __init__(self, fail: bool = False) -> None:
        self.outcomes: list[SlotOutcome] = []
        self.fail = fail

    def __call__(self, outcome: SlotOutcome) -> None:
        if self.fail:
            raise ConnectionError("event bus unavailable")
        self.outcomes.append(outcome)


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
    pe, cl = settings_for(kit_config, "pe"), settings_for(kit_config, "cl")

    assert (pe.user, pe.database, pe.password) == ("rimac_pe", "mysql_pe", "rimac_pe_local")
    assert (cl.user, cl.database, cl.password) == ("rimac_cl", "mysql_cl", "rimac_cl_local")
    assert (pe.host, pe.port) == (kit_config.mysql_host, kit_config.mysql_port)
    assert "rimac_pe_local" not in repr(pe)


def test_a_path_without_parameters_is_reported_by_name(stack: Stack, engine_env: None) -> None:
    with pytest.raises(MissingDbParameter, match="missing SSM parameters under /nowhere: host, port"):
        mysql_settings_from_ssm("/nowhere", max_age=0)


def test_an_appointment_is_written_and_announced_once_in_its_country_schema(
    pe_store: MySqlAppointmentStore, mysql_admin: pymysql.connections.Connection
) -> None:
    item, announced = appointment("ITMYSQL1"), Announcements()

    assert pe_store.save(item, announced) is SlotOutcome.SCHEDULED
    assert pe_store.save(item, announced) is SlotOutcome.ALREADY_HANDLED  # a repeated delivery

    assert announced.outcomes == [SlotOutcome.SCHEDULED]
    expected = [("ITMYSQL1", item.schedule_id, datetime(2026, 11, 27, 12, 0, 0, 123000))]
    assert rows(mysql_admin, "mysql_pe", item.appointment_id) == expected
    assert rows(mysql_admin, "mysql_cl", item.appointment_id) == []


def test_a_failed_announcement_leaves_no_row_so_the_retry_does_both(
    pe_store: MySqlAppointmentStore, mysql_admin: pymysql.connections.Connection
) -> None:
    item = appointment("ITMYSQL3")

    with pytest.raises(ConnectionError):
        pe_store.save(item, Announcements(fail=True))
    assert rows(mysql_admin, "mysql_pe", item.appointment_id) == []

    announced = Announcements()
    assert pe_store.save(item, announced) is SlotOutcome.SCHEDULED
    assert announced.outcomes == [SlotOutcome.SCHEDULED]
    assert len(rows(mysql_admin, "mysql_pe", item.appointment_id)) == 1


def test_a_taken_slot_is_rejected_by_the_unique_key_and_recorded_once(
    pe_store: MySqlAppointmentStore, mysql_admin: pymysql.connections.Connection
) -> None:
    first = appointment("ITMYSQL4")
    second = appointment("ITMYSQL5", schedule=first.schedule_id)
    announced = Announcements()

    assert pe_store.save(first, announced) is SlotOutcome.SCHEDULED
    assert pe_store.save(second, announced) is SlotOutcome.REJECTED
    assert pe_store.save(second, announced) is SlotOutcome.ALREADY_HANDLED

    assert announced.outcomes == [SlotOutcome.SCHEDULED, SlotOutcome.REJECTED]
    assert rows(mysql_admin, "mysql_pe", second.appointment_id) == []
    assert len(rows(mysql_admin, "mysql_pe", second.appointment_id, table="appointment_rejections")) == 1


def test_sql_injection_strings_are_stored_as_data(
    pe_store: MySqlAppointmentStore, mysql_admin: pymysql.connections.Connection
) -> None:
    hostile = "x'); DROP TABLE appointments; --"
    item = appointment(hostile)

    assert pe_store.save(item, Announcements()) is SlotOutcome.SCHEDULED

    assert rows(mysql_admin, "mysql_pe", item.appointment_id)[0][0] == hostile
    with mysql_admin.cursor() as cursor:
        assert cursor.execute("SHOW TABLES FROM mysql_pe LIKE 'appointments'") == 1


def test_the_store_reconnects_after_the_server_drops_its_connection(
    pe_store: MySqlAppointmentStore, mysql_admin: pymysql.connections.Connection
) -> None:
    pe_store.save(appointment("ITMYSQL2"), Announcements())
    with mysql_admin.cursor() as cursor:
        cursor.execute("SELECT id FROM information_schema.processlist WHERE user = 'rimac_pe'")
        for (connection_id,) in cursor.fetchall():
            cursor.execute(f"KILL {int(connection_id)}")

    again = appointment("ITMYSQL2")
    assert pe_store.save(again, Announcements()) is SlotOutcome.SCHEDULED
    assert len(rows(mysql_admin, "mysql_pe", again.appointment_id)) == 1


def test_a_country_user_cannot_touch_the_other_countrys_schema(
    kit_config: KitConfig, stack: Stack, engine_env: None
) -> None:
    pe = settings_for(kit_config, "pe")
    connection = pymysql.connect(host=pe.host, port=pe.port, user=pe.user, password=pe.password)
    with connection, connection.cursor() as cursor, pytest.raises(pymysql.OperationalError, match="denied"):
        cursor.execute("SELECT COUNT(*) FROM mysql_cl.appointments")
