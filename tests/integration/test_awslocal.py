"""awslocal (awscli-local), as the README shows it, against the engine that is up."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack

BIN = Path(sys.executable).parent


def awslocal(config: KitConfig, *args: str) -> object:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",  # awslocal runs `aws` from the same venv
        "LOCALSTACK_HOST": f"{config.engine_host}:{config.engine_port}",
        "DISABLE_DEPRECATION_NOTICE": "1",
    }
    result = subprocess.run(
        [str(BIN / "awslocal"), *args, "--output", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_awslocal_lists_the_stacks_queues(kit_config: KitConfig, stack: Stack) -> None:
    listed = awslocal(kit_config, "sqs", "list-queues")

    assert isinstance(listed, dict)
    queue_names = {url.rsplit("/", 1)[-1] for url in listed["QueueUrls"]}
    assert {
        stack.outputs[pair.queue_output].rsplit("/", 1)[-1] for pair in names.QUEUES.values()
    } <= queue_names


def test_awslocal_reads_the_appointments_table(kit_config: KitConfig, stack: Stack) -> None:
    described = awslocal(
        kit_config, "dynamodb", "describe-table", "--table-name", stack.outputs[names.TABLE_NAME]
    )

    assert isinstance(described, dict)
    keys = {key["AttributeName"]: key["KeyType"] for key in described["Table"]["KeySchema"]}
    assert keys == {"insuredId": "HASH", "appointmentId": "RANGE"}
