"""X-Ray tracing through powertools when the template turns it on, and nothing to load otherwise.

powertools' Tracer imports the X-Ray SDK even when tracing is disabled: a third of a second of
every cold start on the local engine (bench/cold_start.py). With POWERTOOLS_TRACE_DISABLED true,
as the template sets it unless `Tracing` is `Active`, a stand-in with the same two methods is used.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


class HandlerTracer(Protocol):
    def capture_lambda_handler(self, lambda_handler: HandlerT) -> HandlerT: ...

    def put_annotation(self, key: str, value: str) -> None: ...


class Untraced:
    def capture_lambda_handler(self, lambda_handler: HandlerT) -> HandlerT:
        return lambda_handler

    def put_annotation(self, key: str, value: str) -> None:
        return None


def tracing_disabled(environ: dict[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get("POWERTOOLS_TRACE_DISABLED", "false")
    return value.strip().lower() in ("1", "true", "yes", "on")


def handler_tracer(environ: dict[str, str] | None = None) -> HandlerTracer:
    if tracing_disabled(environ):
        return Untraced()
    from aws_lambda_powertools import Tracer  # imports the X-Ray SDK

    return Tracer()  # type: ignore[return-value]
