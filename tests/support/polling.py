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
    max_interval: float = 0.5,
    describe: str = "condition",
) -> T:
    """Call probe until it returns something other than None or False; fail after timeout seconds.

    The first wait is `interval`; each next one is half as long again, up to `max_interval` (or
    `interval`, if that is longer). A probe is a request to the engine (a GET through the API, a
    queue's depth), and the engine is the machine's busiest process: a condition that takes
    twenty seconds costs about fifty probes, not two hundred, and is still seen within half a
    second. A caller that measures how soon something happens passes `max_interval=interval`."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    pause = interval
    while time.monotonic() < deadline:
        last = probe()
        if last is not None and last is not False:
            return last
        time.sleep(max(0.0, min(pause, deadline - time.monotonic())))
        pause = min(pause * 1.5, max(max_interval, interval))
    raise DeadlineExceeded(f"{describe} not reached within {timeout:.0f}s (last probe: {last!r})")


def wait_settled(api: AppointmentsApi, insured_id: str, appointment_id: str, timeout: float) -> str:
    """The appointment's status once it is no longer pending."""

    def settled() -> str | None:
        status = api.status_of(insured_id, appointment_id)
        return status if status not in (None, "pending") else None

    return wait_for(settled, timeout=timeout, describe=f"appointment {appointment_id} settled")


def wait_completed(api: AppointmentsApi, insured_id: str, appointment_id: str, timeout: float) -> None:
    assert wait_settled(api, insured_id, appointment_id, timeout) == "completed"
