"""What `make up` says when something it needs is missing: one line naming the problem and the way out."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap.config import KitConfig, KitError
from bootstrap.dev.kit import Stack
from bootstrap.engines import ministack
from bootstrap.stack import database, provision


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port held by a plain TCP listener that is not the engine."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_port_taken_by_another_program_is_named_with_the_way_out(
    kit_config: KitConfig, busy_port: int
) -> None:
    config = dataclasses.replace(kit_config, engine_port=busy_port, engine_url=None)

    with pytest.raises(KitError) as raised:
        ministack.start(config)

    message = str(raised.value)
    assert f"port {busy_port} is taken by a program that is not the local engine" in message
    assert f"ENGINE_PORT={busy_port + 1}" in message
    assert "\n" not in message


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_missing_mysql_is_named_with_the_way_out(kit_config: KitConfig, closed_port: int) -> None:
    config = dataclasses.replace(kit_config, mysql_port=closed_port)

    with pytest.raises(KitError) as raised:
        database.check_mysql(config)

    message = str(raised.value)
    assert f"MySQL is not answering on 127.0.0.1:{closed_port}" in message
    assert "MYSQL_HOST, MYSQL_PORT" in message
    assert "\n" not in message


def test_a_refused_stack_is_reported_in_one_line_with_the_reason(
    kit_config: KitConfig, stack: Stack, tmp_path: Path
) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  Thing:\n    Type: AWS::NoSuch::Thing\n    Properties: {}\n")
    config = dataclasses.replace(kit_config, stage="refused")

    with pytest.raises(KitError) as raised:
        provision.deploy_stack(config, [], template=template)

    message = str(raised.value)
    assert message.startswith(f"stack {config.stack_name} was refused:")
    assert "AWS::NoSuch::Thing" in message
    assert "\n" not in message
