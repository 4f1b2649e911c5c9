"""A lock across processes: the pytest-xdist workers share one stack, and provision or deploy it in
turn rather than together."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from bootstrap.config import ROOT

LOCKS = ROOT / ".local" / "locks"


def in_xdist_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


@contextmanager
def one_at_a_time(name: str) -> Iterator[None]:
    LOCKS.mkdir(parents=True, exist_ok=True)
    with open(LOCKS / name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
