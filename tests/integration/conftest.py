"""Integration fixtures: real clients for the running engine, and throw-away test resources."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bootstrap.config import KitConfig
from bootstrap.dev import kit
from tests.support.queues import throwaway_queue
from tests.support.random_refs import random_insured_id


@pytest.fixture(scope="session")
def aws(kit_config: KitConfig, stack: kit.Stack) -> Callable[[str], Any]:
    """A client factory for the engine the stack runs on."""
    return kit_config.client


@pytest.fixture(scope="session")
def engine_env(kit_config: KitConfig, stack: kit.Stack) -> Iterator[None]:
    """Point the default boto3 session (used by powertools' parameter provider) at the engine."""
    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL", kit_config.endpoint)
    patch.setenv("AWS_DEFAULT_REGION", kit_config.region)
    patch.setenv("AWS_ACCESS_KEY_ID", "test")
    patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    yield
    patch.undo()


@pytest.fixture
def unique_id() -> str:
    return random_insured_id("IT")


@pytest.fixture
def listening_queue(aws: Callable[[str], Any]) -> Iterator[tuple[str, str]]:
    """A test-only queue that accepts messages from SNS and EventBridge; yields (url, arn)."""
    with throwaway_queue(aws("sqs"), "it") as queue:
        yield queue
