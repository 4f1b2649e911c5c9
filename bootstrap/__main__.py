"""python -m bootstrap {up,down,build,deploy,outputs,...}: the kit's single entry point (the Makefile
calls it)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap import names, packaging
from bootstrap.arguments import (
    aws_region,
    console_arguments,
    db_users_arguments,
    deploy_arguments,
    deploy_config,
    logs_arguments,
    migrate_arguments,
    redrive_arguments,
    server_admin,
    trace_arguments,
    watch_arguments,
)
from bootstrap.config import (
    STATE_DIR,
    KitConfig,
    KitError,
    StackConfig,
)
from bootstrap.contracts.asyncapi import asyncapi_document
from bootstrap.dev import kit, watch
from bootstrap.engines import localstack, ministack, pin_images
from bootstrap.engines.choice import EngineChoice
from bootstrap.ops import logs, redrive, status, trace
from bootstrap.progress import Progress
from bootstrap.stack import db_users, deploy, migrations
from bootstrap.stack.queries import stack_outputs


def create_db_users(args: argparse.Namespace, where: Where) -> None:
    """`db-users`: the users on MySQL, their connections in SSM (of the stack `where` names)."""
    done = db_users.db_users(
        where.stack, **server_admin(args), user_host=args.user_host, functions_host=args.functions_host
    )
    print("\n".join(done))


def print_openapi(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.contracts.openapi import openapi_document  # the routes: no other command loads them

    print(openapi_document(), end="")


def migrate_server(args: argparse.Namespace, where: Where) -> None:
    """`migrate`: each migration applied is printed as it is done, then each schema's result."""
    done = migrations.migrate_server(
        where.stack,
        **server_admin(args),
        on_applied=lambda schema, migration: print(f"{schema}: applied {migration}", flush=True),
    )
    for schema in done:
        if not schema.applied:
            print(schema)


def down() -> None:
    pid = ministack.stop()
    composed = localstack.stop()
    if pid:
        print(f"stopped the local engine (pid {pid})")
    for other in ministack.other_engines():  # one a test session left running (it stops its own)
        if (stopped := ministack.stop_by_pid_file(other)) is not None:
            print(f"stopped the engine of {other.parent.relative_to(STATE_DIR)} (pid {stopped})")
    if composed:
        print(
            "stopped LocalStack and MySQL (docker compose down: containers, network and MySQL's data removed)"
        )
    if not (pid or composed):
        print("no local engine started by `make up` is running")


# ---------------------------------------------------------------- where each command works
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
        trace.check_appointment_id(args.appointment_id)
    return Where(*kit.resolve())


def on_server(args: argparse.Namespace) -> Where:
    return Where(
        StackConfig(
            engine_url=args.endpoint, region=aws_region(args), db_parameters_prefix=args.db_parameters_prefix
        )
    )


def on_aws(args: argparse.Namespace) -> Where:
    return Where(deploy_config(args))


# ---------------------------------------------------------------- what each command does
def up(args: argparse.Namespace, where: Where) -> None:
    reason = where.choice.reason if where.choice else ""
    kit.print_usage(kit.up(where.kit, Progress(), reason=reason), where.kit.console_port)


def packaging_zips(args: argparse.Namespace, where: Where) -> None:
    for built in packaging.build():
        print(f"{built.path.relative_to(built.path.parent.parent)}  sha256 {built.sha256[:16]}")


def deploy_stack(args: argparse.Namespace, where: Where) -> None:
    target = where.stack
    if not target.artifact_bucket_name:
        target = dataclasses.replace(target, artifact_bucket_name=deploy.default_bucket(target))
    print(json.dumps(deploy.deploy(target, Progress()), indent=2))


def follow_logs(args: argparse.Namespace, where: Where) -> None:
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a follow
        logs.logs(where.kit, args.json, not args.no_follow, args.since, colour=sys.stdout.isatty())


def watch_sources(args: argparse.Namespace, where: Where) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        watch.watch(where.kit, args.source.resolve())


def redrive_queues(args: argparse.Namespace, where: Where) -> None:
    for name, moved in redrive.redrive(where.kit, tuple(args.queues) or tuple(names.QUEUES)).items():
        print(f"{name:<9} {moved} message(s) moved from the DLQ back to the queue")


def print_outputs(args: argparse.Namespace, where: Where) -> None:
    outputs = stack_outputs(where.kit)
    print(json.dumps({**outputs, names.API_URL: where.kit.api_url(outputs)}, indent=2))


def on_console_target(args: argparse.Namespace) -> Where:
    """The stack on AWS `--stage` names (the usual AWS_PROFILE and region), else the local kit."""
    if args.stage is None:
        return on_local_engine(args)
    args.endpoint = None
    return Where(StackConfig(stage=args.stage, region=aws_region(args)))


def serve_console(args: argparse.Namespace, where: Where) -> None:
    # imported here: the compose provisioning container has no web server installed
    from bootstrap.console import server

    if isinstance(where.config, KitConfig):
        port, actions_allowed = args.port or where.kit.console_port, not args.read_only
    else:  # on AWS: read-only unless asked
        port = args.port or int(os.environ.get("CONSOLE_PORT") or KitConfig.console_port)
        actions_allowed = args.allow_actions
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C stops it
        server.serve(where.stack, port, actions_allowed, scan_seconds=args.scan_seconds)


@dataclass(frozen=True)
class Command:
    help: str
    run: Callable[[argparse.Namespace, Where], None]
    where: Callable[[argparse.Namespace], Where] = nowhere
    arguments: Callable[[argparse.ArgumentParser], None] = lambda command: None
    description: str | None = None


ASKS_FOR_THE_ADMIN = "The admin password is read from DB_ADMIN_PASSWORD, else asked for."
COMMANDS: dict[str, Command] = {
    "up": Command("start the local engine and provision the whole stack", up, on_local_engine),
    "down": Command("stop the local engine that `up` started", lambda args, where: down()),
    "build": Command("build the Lambda zips for the AWS python3.12 runtime into dist/", packaging_zips),
    "outputs": Command("print the stack outputs and the API URL as JSON", print_outputs, on_local_engine),
    "pin-images": Command(
        "pin docker-compose.yml's images to their registry digests (needs Docker)",
        lambda args, where: print("\n".join(pin_images.pin_images())),
    ),
    "logs": Command(
        "the functions' logs together, one line per event", follow_logs, on_local_engine, logs_arguments
    ),
    "watch": Command(
        "redeploy a function's code when its source changes", watch_sources, on_local_engine, watch_arguments
    ),
    "status": Command(
        "the stack's resources, queue depths and appointments per status",
        lambda args, where: print(status.status(where.kit)),
        on_local_engine,
    ),
    "trace": Command(
        "the journey of one appointment, hop by hop",
        lambda args, where: print(trace.trace(where.kit, args.appointment_id)),
        on_local_engine,
        trace_arguments,
    ),
    "console": Command(
        "the console in the browser: the flow map, appointments, journeys, dead letters, logs",
        serve_console,
        on_console_target,
        console_arguments,
        "On loopback only. Against the local engine by default, redrive allowed; with --stage, a "
        "stack on AWS (the usual AWS_PROFILE and region), read-only unless --allow-actions.",
    ),
    "redrive": Command(
        "move messages from the DLQs back to their source queues",
        redrive_queues,
        on_local_engine,
        redrive_arguments,
    ),
    "deploy": Command(
        "deploy the same template and zips to AWS (or --endpoint)", deploy_stack, on_aws, deploy_arguments
    ),
    "db-users": Command(
        "create (or rotate) the country users on a MySQL server with generated passwords, written to SSM",
        create_db_users,
        on_server,
        db_users_arguments,
        ASKS_FOR_THE_ADMIN,
    ),
    "migrate": Command(
        "apply the pending schema migrations to each country's schema named in SSM, as the admin",
        migrate_server,
        on_server,
        migrate_arguments,
        ASKS_FOR_THE_ADMIN,
    ),
    "asyncapi": Command(
        "print the AsyncAPI document of the messages (make asyncapi writes docs/asyncapi.json)",
        lambda args, where: print(asyncapi_document(), end=""),
    ),
    "openapi": Command(
        "print the OpenAPI document of the HTTP API (make openapi writes docs/openapi.json)", print_openapi
    ),
}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bootstrap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        command.arguments(commands.add_parser(name, help=command.help, description=command.description))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = COMMANDS[args.command]
    where = Where()  # what the AWS calls go to, once it is known
    try:
        where = command.where(args)
        command.run(args, where)
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"error: {where.config.where if where.config else 'AWS'} answered: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
