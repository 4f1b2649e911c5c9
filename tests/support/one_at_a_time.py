"""A lock across processes: the pytest-xdist workers share one stack, and provision or deploy it in
turn rather than together. And a file the session's processes share, written whole."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


def write_whole(path: Path, text: str) -> None:
    """`text` into `path` at once: a process reading it finds the old file or the new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(text)
    scratch.replace(path)
