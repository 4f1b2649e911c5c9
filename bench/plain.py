"""The plain chain: the stack's template deployed as stage `benchplain` with the seed's design as
the reference implementations write it (bench/plain/): its own MySQL users and tables, its own
SSM parameters. Ours is read against it, as what our guarantees cost."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import replace

from bootstrap import names
from bootstrap.config import DIST_DIR, ROOT, KitConfig
from bootstrap.packaging import BuiltZip
from bootstrap.packaging.zips import zip_with_dependencies
from bootstrap.stack import artifacts, parameters, provision
from bootstrap.stack.queries import admin_connection
from tests.support.counts import stored_rows_per_country

STAGE = "benchplain"
SOURCE = ROOT / "bench" / "plain"
TABLE = "appointments_benchplain"  # in each country's schema; bench/plain's processor names it too
HANDLERS = tuple(
    f"appointments.entrypoints.{name}" for name in ("http", "processor", "callback", "reconciler")
)


def config_for(kit: KitConfig) -> KitConfig:
    return replace(kit, stage=STAGE, db_parameters_prefix=f"/rimac/{STAGE}/db")


def mysql_user(country: str) -> str:
    return f"{names.mysql_user(country)}_{STAGE}"


def mysql_password(user: str) -> str:
    return f"{user}_local"  # a local user of the local MySQL, as the test stages' are


def prepare_mysql(config: KitConfig) -> None:
    """Each country's table for the chain and its user, allowed that table only; no-ops when made."""
    with (
        contextlib.closing(admin_connection(config, autocommit=True)) as connection,
        connection.cursor() as cursor,
    ):
        for country in names.COUNTRIES:
            schema, user = names.schema(country), mysql_user(country)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {schema}.{TABLE} ("
                "appointment_id VARCHAR(32) PRIMARY KEY, insured_id VARCHAR(32) NOT NULL, "
                "schedule_id BIGINT NOT NULL, country_iso CHAR(2) NOT NULL, "
                "created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
            )
            cursor.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, mysql_password(user)))
            cursor.execute(f"GRANT SELECT, INSERT ON {schema}.{TABLE} TO %s@'%%'", (user,))


def deploy(config: KitConfig) -> str:
    """MySQL, the SSM parameters, the one zip (PyMySQL beside the code) for every function, the stack."""
    prepare_mysql(config)
    ssm = config.client("ssm")
    for country in names.COUNTRIES:
        user = mysql_user(country)
        values = parameters.connection_parameter_values(
            config.lambda_mysql_host,
            config.lambda_mysql_port,
            user,
            mysql_password(user),
            names.schema(country),
        )
        parameters.put_country_parameters(ssm, config.db_parameters_prefix, country, values)
    built = build_zip()
    zips = [BuiltZip(name, built.path, built.sha256) for name in names.ZIPS]
    artifacts.upload_artifacts(config, zips)  # one file under each function's key
    return f"stack {provision.deploy_stack(config, provision.stack_parameters(config, zips))}"


def build_zip() -> BuiltZip:
    """The one zip of the chain: its code, PyMySQL, and the bytecode their cold start imports."""
    return zip_with_dependencies(SOURCE, DIST_DIR / "plain.zip", ("pymysql", "PyMySQL"), HANDLERS)


def stored_rows(config: KitConfig, appointment_ids: Sequence[str]) -> int:
    with contextlib.closing(admin_connection(config)) as connection:
        return sum(stored_rows_per_country(connection, appointment_ids, TABLE).values())
