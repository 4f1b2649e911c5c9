"""The unit level's guard: a connection to anything but a local socket file fails the test that
tried it, so a fake that quietly became a real client is caught."""

from __future__ import annotations

import socket
from typing import Any

import pytest


class NetworkUsedInUnitTest(AssertionError):
    pass


def refuse_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Until `monkeypatch` is undone, every socket connection but a Unix socket's raises."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def refuse(self: socket.socket, address: Any) -> None:
        if self.family != getattr(socket, "AF_UNIX", None):
            raise NetworkUsedInUnitTest(f"a unit test tried to connect to {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        refuse(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        refuse(self, address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
