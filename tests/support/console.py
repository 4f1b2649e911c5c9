"""The console (`python -m bootstrap console`) run for a test, a benchmark or the screenshots:
on a free loopback port, on the engine and stage of the settings given, stopped afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from bootstrap.config import ROOT, KitConfig
from tests.support.kit_cli import environment_of

STARTS_WITHIN_SECONDS = 30.0


@dataclass(frozen=True)
class RunningConsole:
    url: str
    port: int

    def get(self, path: str, **options: object) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **options)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_console(config: KitConfig, *arguments: str) -> Iterator[RunningConsole]:
    """The console on `config`'s engine and stage, answering once its first figures are read."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bootstrap", "console", "--port", str(port), *arguments],
        cwd=ROOT,
        env={**os.environ, **environment_of(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    console = RunningConsole(f"http://127.0.0.1:{port}", port)
    try:
        deadline = time.monotonic() + STARTS_WITHIN_SECONDS
        while True:
            if process.poll() is not None:
                raise AssertionError(
                    f"the console stopped at its start: {process.stdout.read() if process.stdout else ''}"
                )
            try:
                if console.get("/overview.json").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the console did not answer within {STARTS_WITHIN_SECONDS:.0f}s")
            time.sleep(0.2)
        yield console
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
