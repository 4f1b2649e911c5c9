"""Starts functions' workers before a request needs them: each gets an invocation it answers
without touching any data, so the first real request finds the worker's cold start done.

HTTP: a GET without an API key (answered 401 by the check before routing). Queue consumers: an
empty SQS batch. The reconciler: its scheduled event (it hands over what the schedule would).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bootstrap import names

HTTP_EVENT: dict[str, Any] = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/appointments/WARMUP",
    "rawQueryString": "",
    "headers": {},
    "requestContext": {
        "http": {
            "method": "GET",
            "path": "/appointments/WARMUP",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
        },
        "requestId": "warm-up",
        "stage": "$default",
    },
    "isBase64Encoded": False,
}
EMPTY_BATCH: dict[str, Any] = {"Records": []}


def event_for(function: names.Function) -> dict[str, Any]:
    if function.output == names.HTTP_FUNCTION_NAME:
        return HTTP_EVENT
    if function.output == names.RECONCILER_FUNCTION_NAME:
        return {}
    return EMPTY_BATCH


def warm(client: Any, functions: dict[str, names.Function], workers: int = 1) -> float:
    """Invokes each function (name -> what it is) `workers` times at once, so the engine starts
    that many workers for it; returns the seconds it took. A failed invocation raises."""
    began = time.monotonic()

    def invoke(name: str) -> None:
        answer = client.invoke(FunctionName=name, Payload=json.dumps(event_for(functions[name])).encode())
        if answer.get("FunctionError"):
            raise RuntimeError(f"warming {name} failed: {answer['Payload'].read()[:500]!r}")

    calls = [name for name in functions for _ in range(workers)]
    with ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        list(pool.map(invoke, calls))
    return time.monotonic() - began
