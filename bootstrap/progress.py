"""What `make up` and `make deploy` print while they work: one line per step, with its time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


class Progress:
    """Prints one line per step with the time it took, so a slow step is visible at once."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, flush=True)

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Names the step when it starts (so a slow one is never silent), its time when it ends."""
        details: list[str] = []
        began = time.monotonic()
        if not self.quiet:
            print(f"  {name:<10} ", end="", flush=True)
        yield details
        took = time.monotonic() - began
        if not self.quiet:
            print(f"{took:6.2f}s  {' '.join(details)}", flush=True)

    def total(self) -> float:
        return time.monotonic() - self.started
