"""Unit tests run with no network: a connection to anything but a local socket file fails the test
that tried it, so a fake that quietly became a real client is caught."""

from __future__ import annotations

import pytest

from tests.support.no_network import refuse_connections


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    refuse_connections(monkeypatch)
