"""`make awslocal ARGS="sqs list-queues"`: the AWS CLI (awscli-local) against the local engine.

ARGS comes through the environment and is split into words here as a shell splits them (quotes
group words), but no shell ever reads it: a `;`, `$(...)` or backtick in it is an argument.
"""

from __future__ import annotations

import os
import shlex
import sys


def arguments(args: str) -> list[str]:
    """ARGS as the words the AWS CLI gets."""
    try:
        return shlex.split(args)
    except ValueError as error:  # an unclosed quote
        raise SystemExit(f"error: ARGS cannot be split into arguments: {error}") from None


def main(awslocal: str) -> None:
    os.execv(awslocal, [awslocal, *arguments(os.environ.get("ARGS", ""))])  # noqa: S606 (no shell: the point)


if __name__ == "__main__":
    main(sys.argv[1])
