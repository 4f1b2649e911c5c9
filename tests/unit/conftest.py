"""Unit tests run with no network: a connection to anything but a local socket file fails the test
that tried it, so a fake that quietly became a real client is caught."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkUsedInUnitTest(AssertionError):
    pass


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> None:
        if self.family == getattr(socket, "AF_UNIX", None):
            real_connect(self, address)
            return
        raise NetworkUsedInUnitTest(f"a unit test tried to connect to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", connect)
