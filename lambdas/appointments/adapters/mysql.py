"""A country's appointments table in MySQL, with connection settings from SSM Parameter Store."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pymysql
from aws_lambda_powertools.utilities import parameters
from pymysql.constants import ER
from pymysql.cursors import Cursor

from appointments.domain import Appointment, SlotOutcome
from appointments.ports import CountryAppointmentStore

DB_PARAMETER_NAMES = ("host", "port", "user", "password", "name")


@dataclass(frozen=True)
class MySqlSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    def __repr__(self) -> str:  # never show the password in a log line or a traceback
        return (
            f"MySqlSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"database={self.database!r})"
        )


class MissingDbParameter(RuntimeError):
    pass


def mysql_settings_from_ssm(path: str, max_age: int) -> MySqlSettings:
    """Read <path>/{host,port,user,password,name}; the password is a SecureString.

    powertools caches the values for max_age seconds, so a warm function does not
    call SSM on every batch, and a rotated password is picked up after a reconnect.
    """
    values = parameters.get_parameters(path, decrypt=True, max_age=max_age)
    missing = [name for name in DB_PARAMETER_NAMES if name not in values]
    if missing:
        raise MissingDbParameter(f"missing SSM parameters under {path}: {', '.join(missing)}")
    return MySqlSettings(
        host=values["host"],
        port=int(values["port"]),
        user=values["user"],
        password=values["password"],
        database=values["name"],
    )


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class MySqlAppointmentStore(CountryAppointmentStore):
    """One transaction per appointment: the row (or its rejection) is committed only after the
    outcome is announced. The country user needs INSERT and SELECT, nothing more.

    Keeps one connection per warm container, checked with ping before each use.
    """

    INSERT = (
        "INSERT INTO appointments (appointment_id, insured_id, schedule_id, country_iso, created_at)"
        " VALUES (%s, %s, %s, %s, %s)"
    )
    INSERT_REJECTION = (
        "INSERT INTO appointment_rejections (appointment_id, insured_id, schedule_id, created_at)"
        " VALUES (%s, %s, %s, %s)"
    )
    STORED = "SELECT 1 FROM appointments WHERE appointment_id = %s"

    def __init__(self, settings: Callable[[], MySqlSettings], connect_timeout: int = 5) -> None:
        self._settings = settings
        self._connect_timeout = connect_timeout
        self._connection: pymysql.connections.Connection | None = None

    def _connect(self) -> pymysql.connections.Connection:
        if self._connection is not None:
            try:
                self._connection.ping(reconnect=False)
                return self._connection
            except pymysql.MySQLError:
                self.close()
        settings = self._settings()
        self._connection = pymysql.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            database=settings.database,
            connect_timeout=self._connect_timeout,
            autocommit=False,
            charset="utf8mb4",
        )
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(pymysql.MySQLError):
                self._connection.close()
            self._connection = None

    @staticmethod
    def _inserted(cursor: Cursor, statement: str, values: tuple[object, ...]) -> bool:
        """Run an INSERT; False when a unique key already holds the values (SQL is parameterised)."""
        try:
            cursor.execute(statement, values)
        except pymysql.IntegrityError as error:
            if error.args[0] == ER.DUP_ENTRY:
                return False
            raise
        return True

    def save(self, appointment: Appointment, announce: Callable[[SlotOutcome], None]) -> SlotOutcome:
        connection = self._connect()
        row = (
            appointment.appointment_id,
            appointment.insured_id,
            appointment.schedule_id,
            appointment.country.value,
            _naive_utc(appointment.created_at),
        )
        try:
            connection.begin()
            with connection.cursor() as cursor:
                if self._inserted(cursor, self.INSERT, row):
                    outcome = SlotOutcome.SCHEDULED
                elif cursor.execute(self.STORED, (appointment.appointment_id,)):
                    outcome = SlotOutcome.ALREADY_HANDLED  # this very appointment holds the slot
                elif self._inserted(cursor, self.INSERT_REJECTION, row[:3] + row[4:]):
                    outcome = SlotOutcome.REJECTED  # another appointment holds the slot
                else:
                    outcome = SlotOutcome.ALREADY_HANDLED  # rejected before
            if outcome is not SlotOutcome.ALREADY_HANDLED:
                announce(outcome)  # raises on failure: nothing is committed, the retry starts over
            connection.commit()
        except pymysql.OperationalError:
            # A broken connection is rebuilt, with fresh settings, on the next call.
            self.close()
            raise
        except BaseException:
            with contextlib.suppress(pymysql.MySQLError):
                connection.rollback()
            raise
        return outcome
