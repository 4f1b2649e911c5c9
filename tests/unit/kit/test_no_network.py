"""The unit level's guard: no connection leaves the test, not even to the local engine."""

from __future__ import annotations

import socket

import pytest

from tests.support.no_network import NetworkUsedInUnitTest


@pytest.mark.parametrize("address", [("127.0.0.1", 4566), ("169.254.169.254", 80)])
def test_a_unit_test_cannot_open_a_connection(address: tuple[str, int]) -> None:
    with pytest.raises(NetworkUsedInUnitTest):
        socket.create_connection(address, timeout=1)


def test_a_unit_test_cannot_probe_a_port_either() -> None:
    with pytest.raises(NetworkUsedInUnitTest), socket.socket() as probe:
        probe.connect_ex(("127.0.0.1", 4566))
