"""Changes a fault test makes to a deployed function or its schedule, undone when it ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def environment_changed(lambda_client: Any, function: str, **changes: str) -> Iterator[None]:
    """The function runs with `changes` in its environment (its warm workers are recycled, as on
    AWS), and with its own environment again afterwards."""
    original = lambda_client.get_function_configuration(FunctionName=function)["Environment"]["Variables"]
    lambda_client.update_function_configuration(
        FunctionName=function, Environment={"Variables": original | changes}
    )
    try:
        yield
    finally:
        lambda_client.update_function_configuration(
            FunctionName=function, Environment={"Variables": original}
        )


@contextmanager
def schedule_paused(events_client: Any, rule: str) -> Iterator[None]:
    """The scheduled rule `rule` fires nothing until the block ends: a function the test invokes
    itself then has no scheduled run beside it (a reserved concurrency of one keeps them apart on
    AWS; the local engine does not enforce it)."""
    events_client.disable_rule(Name=rule)
    try:
        yield
    finally:
        events_client.enable_rule(Name=rule)
