"""Changes a fault test makes to a deployed function, undone when it ends."""

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
