"""A country's appointments tables in MySQL, one transaction per unit of work.

The adapter writes and reports what MySQL said as domain facts: a duplicate primary key is
AlreadyStored, a duplicate slot key is SlotTaken, a refused connection or login is
StoreUnavailable (after which the settings are read again). What follows is decided in
services.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import pymysql
from pymysql.constants import CR, ER

from appointments.adapters.ssm import MySqlSettings
from appointments.budgets import MYSQL_LOCK_WAIT_SECONDS, MYSQL_TIMEOUT_SECONDS, Deadline
from appointments.domain import AlreadyStored, Appointment, SlotTaken, StoreUnavailable
from appointments.ports import CountryUnitOfWork

SLOT_KEY = "appointments_slot"  # mysql-init/migrations/0003_appointments_slot_key.sql

# Errors that say the server is unreachable or refused us, rather than our statement.
CONNECTION_ERRORS = {
    CR.CR_CONNECTION_ERROR,
    CR.CR_CONN_HOST_ERROR,
    CR.CR_UNKNOWN_HOST,
    CR.CR_SERVER_GONE_ERROR,
    CR.CR_SERVER_LOST,
    ER.ACCESS_DENIED_ERROR,
    ER.DBACCESS_DENIED_ERROR,
    ER.BAD_DB_ERROR,
}


class SettingsSource(Protocol):
    def __call__(self) -> MySqlSettings: ...

    def forget(self) -> None: ...


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


class MySqlCountryUnitOfWork(CountryUnitOfWork):
    """The country user needs INSERT and SELECT, nothing more. One connection per warm
    container, checked with ping before each unit of work and rebuilt when it fails.

    Every wait is bounded: a host that accepts the connection and never answers would otherwise
    hold the whole batch until the function times out (and a timed-out batch reports no record
    apart). Each connect and statement starts only if its timeout fits before the invocation's
    deadline (budgets.py). After a failed connection the next `unavailable_for` seconds fail at
    once, so the rest of a batch is reported failed in milliseconds, not one timeout each.
    """

    INSERT = (
        "INSERT INTO appointments (appointment_id, insured_id, schedule_id, country_iso, created_at)"
        " VALUES (%s, %s, %s, %s, %s)"
    )
    INSERT_REJECTION = (
        "INSERT INTO appointment_rejections (appointment_id, insured_id, schedule_id, created_at)"
        " VALUES (%s, %s, %s, %s)"
    )

    def __init__(
        self,
        settings: SettingsSource,
        timeout: int = MYSQL_TIMEOUT_SECONDS,
        unavailable_for: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        tls_ca: Path | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        self._settings = settings
        self._deadline = deadline or Deadline()
        self._tls = self._tls_arguments(tls_ca)
        self._timeout = timeout
        self._unavailable_for = unavailable_for
        self._clock = clock
        self._unavailable_until = float("-inf")
        self._unreached = "the database"  # what the last failed connection could not reach
        self._connection: pymysql.connections.Connection | None = None

    @staticmethod
    def _tls_arguments(ca: Path | None) -> dict[str, Any]:
        """With a CA bundle, TLS is required (PyMySQL refuses a server that does not offer it,
        rather than going on in plain text) and the certificate and the host name are checked."""
        if ca is None:
            return {}
        return {"ssl_ca": str(ca), "ssl_verify_cert": True, "ssl_verify_identity": True}

    def _connect(self) -> pymysql.connections.Connection:
        if self._connection is not None:
            self._deadline.check("MySQL ping", self._timeout)
            try:
                self._connection.ping(reconnect=False)
                return self._connection
            except pymysql.MySQLError:
                self.close()
        if self._clock() < self._unavailable_until:
            raise StoreUnavailable(f"{self._unreached} failed a moment ago; not tried again yet")
        settings = self._settings()
        self._deadline.check("MySQL connect", 2 * self._timeout)  # the TCP connect, then the greeting
        try:
            self._connection = pymysql.connect(
                host=settings.host,
                port=settings.port,
                user=settings.user,
                password=settings.password,
                database=settings.database,
                connect_timeout=self._timeout,
                read_timeout=self._timeout,  # also bounds the wait for the server's greeting
                write_timeout=self._timeout,
                autocommit=False,
                charset="utf8mb4",
                init_command=f"SET SESSION innodb_lock_wait_timeout = {MYSQL_LOCK_WAIT_SECONDS}",
                **self._tls,
            )
        except pymysql.MySQLError as error:
            self._settings.forget()  # a fixed host, port or password is read on the next attempt
            self._unavailable_until = self._clock() + self._unavailable_for
            where = f"{settings.database} on {settings.host}:{settings.port}"
            self._unreached = where
            raise StoreUnavailable(f"cannot reach {where}") from error
        return self._connection

    @property
    def _open(self) -> pymysql.connections.Connection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside `with`")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(pymysql.MySQLError):
                self._connection.close()
            self._connection = None

    def begin(self) -> None:
        connection = self._connect()
        self._deadline.check("MySQL BEGIN", self._timeout)
        connection.begin()

    def _insert(self, statement: str, values: tuple[object, ...], appointment: Appointment) -> None:
        self._deadline.check("MySQL INSERT", self._timeout)
        try:
            with self._open.cursor() as cursor:
                cursor.execute(statement, values)
        except pymysql.IntegrityError as error:
            if error.args[0] != ER.DUP_ENTRY:
                raise
            if SLOT_KEY in str(error.args[1]):
                raise SlotTaken(appointment.country, appointment.schedule_id) from None
            raise AlreadyStored(appointment.appointment_id) from None
        except pymysql.OperationalError as error:
            self._lost(error)
            raise

    def _lost(self, error: pymysql.OperationalError) -> None:
        # Rebuilt on the next unit of work: a connection keeps the schema privileges it started
        # with, so a GRANT given back after a refusal is seen only by a new one.
        self.close()
        if error.args and error.args[0] in CONNECTION_ERRORS:
            self._settings.forget()  # and the settings are read again

    def add_appointment(self, appointment: Appointment) -> None:
        row = (
            appointment.appointment_id,
            appointment.insured_id,
            appointment.schedule_id,
            appointment.country.value,
            _naive_utc(appointment.created_at),
        )
        self._insert(self.INSERT, row, appointment)

    def add_rejection(self, appointment: Appointment) -> None:
        row = (
            appointment.appointment_id,
            appointment.insured_id,
            appointment.schedule_id,
            _naive_utc(appointment.created_at),
        )
        self._insert(self.INSERT_REJECTION, row, appointment)

    def commit(self) -> None:
        self._deadline.check("MySQL COMMIT", self._timeout)
        try:
            self._open.commit()
        except pymysql.OperationalError as error:
            self._lost(error)
            raise

    def rollback(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(pymysql.MySQLError):
                self._connection.rollback()
