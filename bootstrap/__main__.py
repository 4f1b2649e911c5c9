"""python -m bootstrap {up,down,build,deploy,outputs,...}: the kit's single entry point (the Makefile
calls it)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import getpass
import json
import os
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap import (
    build,
    db_users,
    deploy,
    engine,
    kit,
    localstack,
    migrations,
    names,
    observe,
    pin_images,
    redrive,
    watch,
)
from bootstrap.config import (
    API_FLAVOURS,
    DATABASE_TLS_MODES,
    LAMBDA_SOURCE,
    STATE_DIR,
    KitConfig,
    KitError,
    StackConfig,
    region_from,
    with_dotenv,
)
from bootstrap.engine_choice import EngineChoice
from bootstrap.progress import Progress
from bootstrap.stack_queries import stack_outputs


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


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bootstrap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the local engine and provision the whole stack")
    commands.add_parser("down", help="stop the local engine that `up` started")
    commands.add_parser("build", help="build the Lambda zips for the AWS python3.12 runtime into dist/")
    commands.add_parser("outputs", help="print the stack outputs and the API URL as JSON")
    commands.add_parser(
        "pin-images", help="pin docker-compose.yml's images to their registry digests (needs Docker)"
    )
    tail = commands.add_parser("logs", help="the functions' logs together, one line per event")
    tail.add_argument("--json", action="store_true", help="the raw JSON lines")
    tail.add_argument("--since", type=int, default=300, help="start this many seconds back (default 300)")
    tail.add_argument("--no-follow", action="store_true", help="print what is there and stop")
    reload = commands.add_parser("watch", help="redeploy a function's code when its source changes")
    reload.add_argument("--source", type=Path, default=LAMBDA_SOURCE, help="the folder holding appointments/")
    commands.add_parser("status", help="the stack's resources, queue depths and appointments per status")
    follow = commands.add_parser("trace", help="the journey of one appointment, hop by hop")
    follow.add_argument("appointment_id")
    back = commands.add_parser("redrive", help="move messages from the DLQs back to their source queues")
    back.add_argument(
        "queues", nargs="*", choices=[*names.QUEUES, []], help=f"{', '.join(names.QUEUES)} (all by default)"
    )
    console = commands.add_parser(
        "console",
        help="the console in the browser: the flow map, appointments, journeys, dead letters, logs",
        description="On loopback only. Against the local engine by default, redrive allowed; with "
        "--stage, a stack on AWS (the usual AWS_PROFILE and region), read-only unless --allow-actions.",
    )
    console.add_argument("--port", type=int, help="default: CONSOLE_PORT, else 4580")
    console.add_argument("--stage", help="read this stage's stack on AWS instead of the local engine")
    console.add_argument("--region", help="AWS region (with --stage; default: from the AWS configuration)")
    console.add_argument(
        "--allow-actions", action="store_true", help="with --stage: allow redrive from the page"
    )
    console.add_argument("--read-only", action="store_true", help="on the local engine too: no redrive")
    to_aws = commands.add_parser("deploy", help="deploy the same template and zips to AWS (or --endpoint)")
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
    users = commands.add_parser(
        "db-users",
        help="create (or rotate) the country users on a MySQL server with generated passwords, written to SSM",
        description="The admin password is read from DB_ADMIN_PASSWORD, else asked for.",
    )
    server_admin_arguments(users, "a MySQL user that may create users and grant")
    users.add_argument(
        "--user-host",
        default=db_users.ANY_HOST,
        help="where the country users may connect from, e.g. 10.0.%% (default: %%, anywhere)",
    )
    users.add_argument(
        "--functions-host", help="the server as the functions reach it, written to SSM (default: --host)"
    )
    server_tls_and_ssm_arguments(users, "written", "write the parameters to")
    schema = commands.add_parser(
        "migrate",
        help="apply the pending schema migrations to each country's schema named in SSM, as the admin",
        description="The admin password is read from DB_ADMIN_PASSWORD, else asked for.",
    )
    server_admin_arguments(schema, "a MySQL user that may create schemas and alter their tables")
    server_tls_and_ssm_arguments(schema, "read", "read the parameters from")
    return parser


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


def server_admin_password(args: argparse.Namespace) -> str:
    admin_password = os.environ.get("DB_ADMIN_PASSWORD")
    if admin_password is None:
        admin_password = getpass.getpass(f"MySQL password of {args.admin_user} on {args.host}: ")
    return admin_password


def create_db_users(args: argparse.Namespace, config: StackConfig) -> None:
    """`db-users`: the users on MySQL, their connections in SSM (of `config`)."""
    done = db_users.db_users(
        config,
        host=args.host,
        port=args.port,
        admin_user=args.admin_user,
        admin_password=server_admin_password(args),
        user_host=args.user_host,
        functions_host=args.functions_host,
        ssl_ca=args.ssl_ca,
        require_tls=not args.allow_plaintext,
    )
    print("\n".join(done))


def migrate_server(args: argparse.Namespace, config: StackConfig) -> None:
    """`migrate`: each migration applied is printed as it is done, then each schema's result."""
    done = migrations.migrate_server(
        config,
        host=args.host,
        port=args.port,
        admin_user=args.admin_user,
        admin_password=server_admin_password(args),
        ssl_ca=args.ssl_ca,
        require_tls=not args.allow_plaintext,
        on_applied=lambda schema, migration: print(f"{schema}: applied {migration}", flush=True),
    )
    for schema in done:
        if not schema.applied:
            print(schema)


def down() -> None:
    pid = engine.stop()
    composed = localstack.stop()
    if pid:
        print(f"stopped the local engine (pid {pid})")
    for other in engine.other_engines():  # one a test session left running (it stops its own)
        if (stopped := engine.stop_by_pid_file(other)) is not None:
            print(f"stopped the engine of {other.parent.relative_to(STATE_DIR)} (pid {stopped})")
    if composed:
        print(
            "stopped LocalStack and MySQL (docker compose down: containers, network and MySQL's data removed)"
        )
    if not (pid or composed):
        print("no local engine started by `make up` is running")


def serve_console(config: StackConfig, port: int, actions_allowed: bool) -> None:
    # imported here: the compose provisioning container has no web server installed
    from bootstrap.console import server

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it
        server.serve(config, port, actions_allowed)


def on_local_engine(args: argparse.Namespace, config: KitConfig, choice: EngineChoice) -> None:
    """The commands that work on the local stack."""
    if args.command == "up":
        kit.print_usage(kit.up(config, Progress(), reason=choice.reason), config.console_port)
    elif args.command == "logs":
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a follow
            observe.logs(config, args.json, not args.no_follow, args.since, colour=sys.stdout.isatty())
    elif args.command == "watch":
        with contextlib.suppress(KeyboardInterrupt):
            watch.watch(config, args.source.resolve())
    elif args.command == "status":
        print(observe.status(config))
    elif args.command == "trace":
        print(observe.trace(config, args.appointment_id))
    elif args.command == "console":
        serve_console(config, args.port or config.console_port, actions_allowed=not args.read_only)
    elif args.command == "redrive":
        for name, moved in redrive.redrive(config, tuple(args.queues) or tuple(names.QUEUES)).items():
            print(f"{name:<9} {moved} message(s) moved from the DLQ back to the queue")
    elif args.command == "outputs":
        outputs = stack_outputs(config)
        print(json.dumps({**outputs, names.API_URL: config.api_url(outputs)}, indent=2))


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    target: StackConfig | None = None  # what the AWS calls go to, once it is known
    try:
        if args.command == "down":
            down()
        elif args.command == "pin-images":
            print("\n".join(pin_images.pin_images()))
        elif args.command == "build":
            for built in build.build():
                print(f"{built.path.relative_to(built.path.parent.parent)}  sha256 {built.sha256[:16]}")
        elif args.command == "deploy":
            target = deploy_config(args)
            if not target.artifact_bucket_name:
                target = dataclasses.replace(target, artifact_bucket_name=deploy.default_bucket(target))
            print(json.dumps(deploy.deploy(target, Progress()), indent=2))
        elif args.command == "console" and args.stage:  # a stack on AWS
            args.endpoint = None
            target = StackConfig(stage=args.stage, region=aws_region(args))
            port = args.port or int(os.environ.get("CONSOLE_PORT") or KitConfig.console_port)
            serve_console(target, port, actions_allowed=args.allow_actions)
        elif args.command in ("db-users", "migrate"):
            target = StackConfig(
                engine_url=args.endpoint,
                region=aws_region(args),
                db_parameters_prefix=args.db_parameters_prefix,
            )
            (create_db_users if args.command == "db-users" else migrate_server)(args, target)
        else:  # only these choose an engine, and only then is Docker asked whether it answers
            if args.command == "trace":
                observe.check_appointment_id(args.appointment_id)
            config, choice = kit.resolve()
            target = config
            on_local_engine(args, config, choice)
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"error: {target.where if target else 'AWS'} answered: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
