"""Waiting for asynchronous results with a deadline, never a fixed sleep: any condition, and an
appointment settling, as the API tells it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from tests.support.api_client import AppointmentsApi

T = TypeVar("T")


class DeadlineExceeded(AssertionError):
    pass


def wait_for(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.1,
    describe: str = "condition",
) -> T:
    """Call probe until it returns something other than None or False; fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last is not None and last is not False:
            return last
        time.sleep(interval)
    raise DeadlineExceeded(f"{describe} not reached within {timeout:.0f}s (last probe: {last!r})")


def wait_settled(api: AppointmentsApi, insured_id: str, appointment_id: str, timeout: float) -> str:
    """The appointment's status once it is no longer pending."""

    def settled() -> str | None:
        status = api.status_of(insured_id, appointment_id)
        return status if status not in (None, "pending") else None

    return wait_for(settled, timeout=timeout, describe=f"appointment {appointment_id} settled")


def wait_completed(api: AppointmentsApi, insured_id: str, appointment_id: str, timeout: float) -> None:
    assert wait_settled(api, insured_id, appointment_id, timeout) == "completed"
