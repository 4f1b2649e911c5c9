"""The engine's memory while the benchmark runs: its own process and the function workers it starts."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from types import TracebackType

PAGE = os.sysconf("SC_PAGE_SIZE")
PROC = Path("/proc")


def engine_pid() -> int | None:
    """The ministack server process (the oldest one, not a worker it started), if one runs."""
    candidates = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            command = (entry / "cmdline").read_bytes().split(b"\0")
            if any(part.endswith(b"/ministack") or part == b"ministack" for part in command):
                candidates.append(int(entry.name))
    return min(candidates) if candidates else None


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                # the command may hold spaces and parentheses: the fields start after the last ')'
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def _rss_bytes(pid: int) -> int:
    with contextlib.suppress(OSError, IndexError, ValueError):
        return int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
    return 0


class MemorySampler:
    """Samples the resident memory of a process tree every `interval` seconds in a thread."""

    def __init__(self, root: int | None, interval: float = 0.25) -> None:
        self.root = root
        self.interval = interval
        self.engine_peak = 0
        self.tree_peak = 0
        self.workers_at_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        if self.root is None:
            return
        tree, pending, seen = _children(), [self.root], []
        while pending:
            pid = pending.pop()
            seen.append(pid)
            pending += tree.get(pid, [])
        total = sum(_rss_bytes(pid) for pid in seen)
        self.engine_peak = max(self.engine_peak, _rss_bytes(self.root))
        if total > self.tree_peak:
            self.tree_peak, self.workers_at_peak = total, len(seen) - 1

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def peaks(self) -> dict[str, float | int | None]:
        mib = 2**20
        return {
            "engine_pid": self.root,
            "engine_peak_mib": round(self.engine_peak / mib, 1),
            "engine_and_workers_peak_mib": round(self.tree_peak / mib, 1),
            "processes_at_peak": self.workers_at_peak,
        }
