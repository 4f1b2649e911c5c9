"""What the test session does for a stack: use the running one, or start the chosen engine."""

from __future__ import annotations

from enum import StrEnum

from bootstrap.engines.choice import EngineChoice


class FixturePlan(StrEnum):
    REUSE = "reuse the running stack"
    COMPOSE = "start docker-compose through testcontainers"
    MINISTACK = "start the Docker-free engine"


def plan_test_stack(choice: EngineChoice, stack_running: bool) -> FixturePlan:
    """A running stack is used as it is; otherwise LocalStack comes up through testcontainers (and
    is torn down after), or ministack is started (and stopped)."""
    if stack_running:
        return FixturePlan.REUSE
    return FixturePlan.COMPOSE if choice.engine == "localstack" else FixturePlan.MINISTACK
