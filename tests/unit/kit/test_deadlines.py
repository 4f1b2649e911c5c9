"""The e2e and fault tests' deadlines: one pair per engine the kit runs on."""

from __future__ import annotations

from bootstrap.config import ENGINES
from tests.support.deadlines import ENGINE_DEADLINES


def test_every_engine_has_its_deadlines_and_only_those() -> None:
    assert set(ENGINE_DEADLINES) == set(ENGINES)
