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

from bootstrap import names
from bootstrap.arguments import (
    Where,
    console_arguments,
    db_users_arguments,
    deploy_arguments,
    logs_arguments,
    migrate_arguments,
    nowhere,
    on_aws,
    on_console_target,
    on_local_engine,
    on_server,
    redrive_arguments,
    server_admin,
    trace_arguments,
    watch_arguments,
)
from bootstrap.config import KitConfig, KitError

# Each command imports what it works with when it runs: a command, or a mistyped one, does not
# load boto3's clients, pydantic's models or the console's web server for the others.


def create_db_users(args: argparse.Namespace, where: Where) -> None:
    """`db-users`: the users on MySQL, their connections in SSM (of the stack `where` names)."""
    from bootstrap.stack import db_users

    done = db_users.db_users(
        where.stack, **server_admin(args), user_host=args.user_host, functions_host=args.functions_host
    )
    print("\n".join(done))


def print_openapi(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.contracts.openapi import openapi_document  # the routes: no other command loads them

    print(openapi_document(), end="")


def migrate_server(args: argparse.Namespace, where: Where) -> None:
    """`migrate`: each migration applied is printed as it is done, then each schema's result."""
    from bootstrap.stack import migrations

    done = migrations.migrate_server(
        where.stack,
        **server_admin(args),
        on_applied=lambda schema, migration: print(f"{schema}: applied {migration}", flush=True),
    )
    for schema in done:
        if not schema.applied:
            print(schema)


def down(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.dev import kit

    print("\n".join(kit.down()))


def print_status(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.ops import status

    print(status.status(where.kit))


def print_trace(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.ops import trace

    print(trace.trace(where.kit, args.appointment_id))


def print_asyncapi(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.contracts.asyncapi import asyncapi_document

    print(asyncapi_document(), end="")


def pin_docker_images(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.engines import pin_images

    print("\n".join(pin_images.pin_images()))


# ---------------------------------------------------------------- what each command does
def up(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.dev import kit
    from bootstrap.progress import Progress

    reason = where.choice.reason if where.choice else ""
    kit.print_usage(kit.up(where.kit, Progress(), reason=reason), where.kit.console_port)


def packaging_zips(args: argparse.Namespace, where: Where) -> None:
    from bootstrap import packaging

    for built in packaging.build():
        print(f"{built.path.relative_to(built.path.parent.parent)}  sha256 {built.sha256[:16]}")


def deploy_stack(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.progress import Progress
    from bootstrap.stack import deploy

    target = where.stack
    if not target.artifact_bucket_name:
        target = dataclasses.replace(target, artifact_bucket_name=deploy.default_bucket(target))
    print(json.dumps(deploy.deploy(target, Progress()), indent=2))


def follow_logs(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.ops import logs

    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends a follow
        logs.logs(where.kit, args.json, not args.no_follow, args.since, colour=sys.stdout.isatty())


def watch_sources(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.dev import watch

    with contextlib.suppress(KeyboardInterrupt):
        watch.watch(where.kit, args.source.resolve())


def redrive_queues(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.ops import redrive

    for name, moved in redrive.redrive(where.kit, tuple(args.queues) or tuple(names.QUEUES)).items():
        print(f"{name:<9} {moved} message(s) moved from the DLQ back to the queue")


def print_outputs(args: argparse.Namespace, where: Where) -> None:
    from bootstrap.stack.queries import stack_outputs

    outputs = stack_outputs(where.kit)
    print(json.dumps({**outputs, names.API_URL: where.kit.api_url(outputs)}, indent=2))


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
    "down": Command("stop the local engine that `up` started", down),
    "build": Command("build the Lambda zips for the AWS python3.12 runtime into dist/", packaging_zips),
    "outputs": Command("print the stack outputs and the API URL as JSON", print_outputs, on_local_engine),
    "pin-images": Command(
        "pin docker-compose.yml's images to their registry digests (needs Docker)",
        pin_docker_images,
    ),
    "logs": Command(
        "the functions' logs together, one line per event", follow_logs, on_local_engine, logs_arguments
    ),
    "watch": Command(
        "redeploy a function's code when its source changes", watch_sources, on_local_engine, watch_arguments
    ),
    "status": Command(
        "the stack's resources, queue depths and appointments per status",
        print_status,
        on_local_engine,
    ),
    "trace": Command(
        "the journey of one appointment, hop by hop",
        print_trace,
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
        print_asyncapi,
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


def aws_errors() -> tuple[type[Exception], ...]:
    """What an AWS call raises (looked up only when a command failed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


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
    except aws_errors() as error:
        print(f"error: {where.config.where if where.config else 'AWS'} answered: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
