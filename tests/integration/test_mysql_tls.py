"""TLS from a processor to MySQL, against a real MariaDB started with TLS on for these tests (the
machine's MySQL runs without it). Its country user is `REQUIRE SSL`, as `make db-users` makes them
on RDS. Verified TLS writes; a server whose certificate another CA signed, a server reached by a
name its certificate does not hold, and a server without TLS are all refused, never written to in
plain text."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pymysql
import pytest
from pymysql.constants import ER

from appointments.adapters.mysql import MySqlCountryUnitOfWork
from appointments.adapters.ssm import MySqlSettings
from appointments.domain import Appointment, Country, StoreUnavailable
from bootstrap import names
from bootstrap.config import LOCAL_COUNTRY_DATABASES, KitConfig
from bootstrap.stack import database
from tests.support.appointments import appointment
from tests.support.certificates import Authority
from tests.support.prerequisites import missing

MARIADBD, INSTALL_DB = shutil.which("mariadbd"), shutil.which("mariadb-install-db")
pytestmark = pytest.mark.xdist_group("tls-mysql")  # one server for the module, on one worker
PE = LOCAL_COUNTRY_DATABASES[0]


@dataclass(frozen=True)
class TlsMySql:
    port: int
    ca_bundle: Path
    other_ca_bundle: Path

    def settings(self, host: str = "127.0.0.1") -> MySqlSettings:
        return MySqlSettings(host, self.port, PE.user, PE.password, names.schema(Country.PE))


class Fixed:
    """The settings source a processor gets from SSM, here fixed."""

    def __init__(self, settings: MySqlSettings) -> None:
        self.settings = settings

    def __call__(self) -> MySqlSettings:
        return self.settings

    def forget(self) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    try:
        pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=1).close()
    except pymysql.MySQLError:
        return False
    return True


@pytest.fixture(scope="module")
def tls_mysql(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsMySql]:
    if not (MARIADBD and INSTALL_DB):
        missing(
            "MariaDB's server binaries (mariadbd, mariadb-install-db) to start a MySQL with TLS",
            "install Debian's or Ubuntu's mariadb-server-core (no service: the tests start their own server)",
        )
    folder = tmp_path_factory.mktemp("tls-mysql")
    data, authority = folder / "data", Authority("rimac test database CA")
    cert, key = authority.server(folder)
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [str(INSTALL_DB), "--no-defaults", f"--datadir={data}", "--auth-root-authentication-method=normal",
         "--skip-test-db", *user],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    server = subprocess.Popen(
        [str(MARIADBD), "--no-defaults", f"--datadir={data}", f"--port={port}", "--bind-address=127.0.0.1",
         f"--socket={folder / 'mysqld.sock'}", f"--pid-file={folder / 'mysqld.pid'}",
         f"--log-error={folder / 'error.log'}", f"--ssl-ca={authority.bundle(folder / 'ca.pem')}",
         f"--ssl-cert={cert}", f"--ssl-key={key}", *user],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not answers(port):
            assert server.poll() is None, (folder / "error.log").read_text()[-2000:]
            assert time.monotonic() < deadline, "the TLS MariaDB did not answer within 30 s"
            time.sleep(0.2)
        # The schemas and country users the kit makes, then the RDS rule: this user only over TLS.
        on_this_server = replace(KitConfig.from_env({}), mysql_port=port, mysql_password="")
        database.migrate_local(on_this_server)
        database.apply_mysql_init(on_this_server)
        admin = pymysql.connect(host="127.0.0.1", port=port, user="root", autocommit=True)
        with admin, admin.cursor() as cursor:
            cursor.execute(f"ALTER USER '{PE.user}'@'%' REQUIRE SSL")
        yield TlsMySql(port, folder / "ca.pem", Authority("another CA").bundle(folder / "other-ca.pem"))
    finally:
        server.terminate()
        server.wait(timeout=30)


def write(uow: MySqlCountryUnitOfWork, item: Appointment) -> None:
    try:
        with uow:
            uow.add_appointment(item)
            uow.commit()
    finally:
        uow.close()


def stored(server: TlsMySql, item: Appointment) -> int:
    admin = pymysql.connect(host="127.0.0.1", port=server.port, user="root")
    with admin, admin.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {names.schema(Country.PE)}.appointments WHERE appointment_id = %s",  # noqa: S608 (a fixed name)
            (item.appointment_id,),
        )
        (count,) = cursor.fetchone()
    return int(count)


def test_verified_tls_writes_the_appointment(tls_mysql: TlsMySql) -> None:
    item = appointment()

    write(MySqlCountryUnitOfWork(Fixed(tls_mysql.settings()), tls_ca=tls_mysql.ca_bundle), item)

    assert stored(tls_mysql, item) == 1  # the user is REQUIRE SSL: this connection was TLS


def test_a_server_whose_certificate_another_ca_signed_is_refused(tls_mysql: TlsMySql) -> None:
    item = appointment()

    with pytest.raises(StoreUnavailable):
        write(MySqlCountryUnitOfWork(Fixed(tls_mysql.settings()), tls_ca=tls_mysql.other_ca_bundle), item)
    assert stored(tls_mysql, item) == 0


def test_a_server_reached_by_a_name_its_certificate_does_not_hold_is_refused(tls_mysql: TlsMySql) -> None:
    item = appointment()
    by_name = tls_mysql.settings(host="localhost")  # the same server; its certificate names 127.0.0.1

    with pytest.raises(StoreUnavailable):
        write(MySqlCountryUnitOfWork(Fixed(by_name), tls_ca=tls_mysql.ca_bundle), item)
    assert stored(tls_mysql, item) == 0


def test_a_server_without_tls_is_refused_rather_than_written_in_plain_text(
    tls_mysql: TlsMySql, kit_config: KitConfig
) -> None:
    plain = MySqlSettings(
        kit_config.mysql_host, kit_config.mysql_port, PE.user, PE.password, names.schema(Country.PE)
    )
    cause = None

    try:
        write(MySqlCountryUnitOfWork(Fixed(plain), tls_ca=tls_mysql.ca_bundle), appointment())
    except StoreUnavailable as refused:
        cause = refused.__cause__
    assert isinstance(cause, pymysql.OperationalError), "the write went through without verified TLS"


def test_a_require_ssl_user_cannot_connect_in_plain_text(tls_mysql: TlsMySql) -> None:
    settings = tls_mysql.settings()

    with pytest.raises(pymysql.OperationalError) as refused:
        pymysql.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            database=settings.database,
            ssl_disabled=True,
        )
    assert refused.value.args[0] == ER.ACCESS_DENIED_ERROR
