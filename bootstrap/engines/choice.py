"""Which local engine to use: LocalStack (docker-compose) wherever a Docker engine answers,
the Docker-free ministack otherwise; ENGINE=localstack|ministack decides explicitly."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from bootstrap.config import ENGINES, KitError


@dataclass(frozen=True)
class EngineChoice:
    engine: str
    reason: str


def docker_answers(timeout: float = 5.0) -> bool:
    """True when a Docker engine answers (`docker info`), not merely when the client is installed."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def choose_engine(requested: str | None, docker_available: Callable[[], bool]) -> EngineChoice:
    if requested:
        if requested not in ENGINES:
            raise KitError(f"ENGINE must be one of {', '.join(ENGINES)}, not {requested!r}")
        return EngineChoice(requested, f"ENGINE={requested} was asked for")
    if docker_available():
        return EngineChoice("localstack", "a Docker engine answers (ENGINE=ministack to run without it)")
    return EngineChoice("ministack", "no Docker engine answers, so the Docker-free engine")
