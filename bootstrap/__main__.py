"""python -m bootstrap {up,down,build,outputs}: the kit's single entry point (the Makefile calls it)."""

from __future__ import annotations

import argparse
import json
import sys

from botocore.exceptions import BotoCoreError, ClientError

from bootstrap import build, engine, kit, provision
from bootstrap.config import KitConfig, KitError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bootstrap", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the local engine and provision the whole stack")
    commands.add_parser("down", help="stop the local engine that `up` started")
    commands.add_parser("build", help="build the Lambda zips for the AWS python3.12 runtime into dist/")
    commands.add_parser("outputs", help="print the stack outputs and the API URL as JSON")
    args = parser.parse_args(argv)

    try:
        config = KitConfig.from_env()
        if args.command == "up":
            kit.print_usage(kit.up(config, kit.Progress()))
        elif args.command == "down":
            pid = engine.stop()
            print(
                f"stopped the local engine (pid {pid})"
                if pid
                else "no local engine started by `make up` is running"
            )
        elif args.command == "build":
            for built in build.build():
                print(f"{built.path.relative_to(built.path.parent.parent)}  sha256 {built.sha256[:16]}")
        elif args.command == "outputs":
            outputs = provision.stack_outputs(config)
            print(json.dumps({**outputs, "ApiUrl": config.api_url(outputs["ApiId"])}, indent=2))
    except KitError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"error: the engine at {config.endpoint} answered: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
