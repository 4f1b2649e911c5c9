"""The command line's arguments: what each command of `python -m bootstrap` takes, and the
settings they give."""

from __future__ import annotations

import argparse
import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bootstrap import names
from bootstrap.config import (
    API_FLAVOURS,
    DATABASE_TLS_MODES,
    LAMBDA_SOURCE,
    KitConfig,
    KitError,
    StackConfig,
    region_from,
    with_dotenv,
)

if TYPE_CHECKING:
    from bootstrap.engines.choice import EngineChoice

# Where the country users may connect from unless told: anywhere (MySQL's wildcard host).
ANY_HOST = "%"


def aws_region(args: argparse.Namespace) -> str:
    import boto3

    if args.endpoint:  # a local engine: the region `make up` provisioned it in
        region = args.region or region_from(with_dotenv(os.environ))
    else:
        region = args.region or boto3.session.Session().region_name
    if not region:
        raise KitError("no AWS region: pass --region or set AWS_REGION (or configure a default region)")
    return str(region)


def deploy_config(args: argparse.Namespace) -> StackConfig:
    region = aws_region(args)
    if bool(args.subnet_ids) != bool(args.security_group_id):
        raise KitError("--subnet-ids and --security-group-id go together")
    return StackConfig(
        engine_url=args.endpoint,
        stage=args.stage,
        region=region,
        api_flavour=args.api_flavour,
        db_parameters_prefix=args.db_parameters_prefix,
        artifact_bucket_name=args.bucket,
        subnet_ids=tuple(s for s in args.subnet_ids.split(",") if s),
        security_group_id=args.security_group_id,
        database_tls=args.database_tls,
        rest_api_logs_role=args.rest_api_logs_role,
    )


def logs_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("--json", action="store_true", help="the raw JSON lines")
    command.add_argument("--since", type=int, default=300, help="start this many seconds back (default 300)")
    command.add_argument("--no-follow", action="store_true", help="print what is there and stop")


def watch_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--source", type=Path, default=LAMBDA_SOURCE, help="the folder holding appointments/"
    )


def trace_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument("appointment_id")


def redrive_arguments(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "queues", nargs="*", choices=[*names.QUEUES, []], help=f"{', '.join(names.QUEUES)} (all by default)"
    )


def console_arguments(console: argparse.ArgumentParser) -> None:
    console.add_argument("--port", type=int, help="default: CONSOLE_PORT, else 4580")
    console.add_argument("--stage", help="read this stage's stack on AWS instead of the local engine")
    console.add_argument("--region", help="AWS region (with --stage; default: from the AWS configuration)")
    console.add_argument(
        "--allow-actions", action="store_true", help="with --stage: allow redrive from the page"
    )
    console.add_argument("--read-only", action="store_true", help="on the local engine too: no redrive")
    console.add_argument(
        "--scan-seconds",
        type=float,
        help="scan the table for the status counts this often (default: a hundred times the scan's "
        "own time, from 10 s to a minute; on AWS each scan reads every item)",
    )


def deploy_arguments(to_aws: argparse.ArgumentParser) -> None:
    to_aws.add_argument("--stage", required=True, help="stage name, suffix of every resource")
    to_aws.add_argument("--api-flavour", choices=API_FLAVOURS, default=StackConfig.api_flavour)
    to_aws.add_argument(
        "--db-parameters-prefix",
        default=names.DEFAULT_DB_PARAMETERS_PREFIX,
        help="SSM path under which each country's database parameters are",
    )
    to_aws.add_argument("--subnet-ids", default="", help="comma-separated subnets for the processors")
    to_aws.add_argument("--security-group-id", default="", help="security group for the processors")
    to_aws.add_argument(
        "--rest-api-logs-role",
        choices=["create", "existing"],
        default=StackConfig.rest_api_logs_role,
        help="REST flavour: make and set the account's API Gateway logs role, or keep the one it has",
    )
    to_aws.add_argument("--bucket", help="artifact bucket (default: one named after stage, account, region)")
    to_aws.add_argument(
        "--region", help="AWS region (default: from the AWS configuration; with --endpoint, the local kit's)"
    )
    to_aws.add_argument("--endpoint", help="deploy to this local engine instead of AWS")
    to_aws.add_argument(
        "--database-tls",
        choices=DATABASE_TLS_MODES,
        default=StackConfig.database_tls,
        help="TLS to MySQL with the certificate checked against lambdas/appointments/certs/mysql-ca.pem "
        "(verify, the default), or none (off: only for a MySQL without TLS)",
    )


def db_users_arguments(users: argparse.ArgumentParser) -> None:
    server_admin_arguments(users, "a MySQL user that may create users and grant")
    users.add_argument(
        "--user-host",
        default=ANY_HOST,
        help="where the country users may connect from, e.g. 10.0.%% (default: %%, anywhere)",
    )
    users.add_argument(
        "--functions-host", help="the server as the functions reach it, written to SSM (default: --host)"
    )
    server_tls_and_ssm_arguments(users, "written", "write the parameters to")


def migrate_arguments(schema: argparse.ArgumentParser) -> None:
    server_admin_arguments(schema, "a MySQL user that may create schemas and alter their tables")
    server_tls_and_ssm_arguments(schema, "read", "read the parameters from")


def server_admin_arguments(command: argparse.ArgumentParser, admin: str) -> None:
    command.add_argument("--host", required=True, help="the MySQL server (the RDS endpoint)")
    command.add_argument("--port", type=int, default=3306)
    command.add_argument("--admin-user", required=True, help=admin)


def server_tls_and_ssm_arguments(command: argparse.ArgumentParser, written: str, engine: str) -> None:
    command.add_argument("--ssl-ca", help="the CA bundle the server's certificate is checked against (RDS's)")
    command.add_argument(
        "--allow-plaintext",
        action="store_true",
        help="do not require TLS for the admin connection (a local test server only)",
    )
    command.add_argument(
        "--db-parameters-prefix",
        default=names.DEFAULT_DB_PARAMETERS_PREFIX,
        help=f"SSM path under which each country's database parameters are {written}",
    )
    command.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    command.add_argument("--endpoint", help=f"{engine} this local engine instead of AWS")


def server_admin(args: argparse.Namespace) -> dict[str, Any]:
    """How `db-users` and `migrate` sign in to the server as its admin: the password from
    DB_ADMIN_PASSWORD, else asked for."""
    admin_password = os.environ.get("DB_ADMIN_PASSWORD")
    if admin_password is None:
        admin_password = getpass.getpass(f"MySQL password of {args.admin_user} on {args.host}: ")
    return {
        "host": args.host,
        "port": args.port,
        "admin_user": args.admin_user,
        "admin_password": admin_password,
        "ssl_ca": args.ssl_ca,
        "require_tls": not args.allow_plaintext,
    }


@dataclass(frozen=True)
class Where:
    """Where a command works: nowhere, a stack on AWS or behind an endpoint, or the local kit
    (with why its engine was chosen)."""

    config: StackConfig | None = None
    choice: EngineChoice | None = None

    @property
    def stack(self) -> StackConfig:
        if self.config is None:
            raise KitError("this command works on no stack")
        return self.config

    @property
    def kit(self) -> KitConfig:
        if not isinstance(self.config, KitConfig):
            raise KitError("this command works on the local kit only")
        return self.config


def nowhere(args: argparse.Namespace) -> Where:
    return Where()


def on_local_engine(args: argparse.Namespace) -> Where:
    """Only the commands that work on the local stack choose an engine, and only then is Docker
    asked whether it answers."""
    if args.command == "trace":
        from bootstrap.ops import trace

        trace.check_appointment_id(args.appointment_id)
    from bootstrap.dev import kit

    return Where(*kit.resolve())


def on_server(args: argparse.Namespace) -> Where:
    return Where(
        StackConfig(
            engine_url=args.endpoint, region=aws_region(args), db_parameters_prefix=args.db_parameters_prefix
        )
    )


def on_aws(args: argparse.Namespace) -> Where:
    return Where(deploy_config(args))


def on_console_target(args: argparse.Namespace) -> Where:
    """The stack on AWS `--stage` names (the usual AWS_PROFILE and region), else the local kit."""
    if args.stage is None:
        return on_local_engine(args)
    args.endpoint = None
    return Where(StackConfig(stage=args.stage, region=aws_region(args)))
