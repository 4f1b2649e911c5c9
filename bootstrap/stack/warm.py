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


# What a first burst needs: the HTTP function a worker per concurrent request (the benchmark's
# concurrency), each queue consumer as many as its mapping runs at once (the template's
# ScalingConfig.MaximumConcurrency), the reconciler one.
HTTP_WORKERS = 8
QUEUE_MAPPING_CONCURRENCY = 3


def workers_for_a_burst(function: names.Function, http_workers: int = HTTP_WORKERS) -> int:
    if function.output == names.HTTP_FUNCTION_NAME:
        return http_workers
    if function.output == names.RECONCILER_FUNCTION_NAME:
        return 1
    return QUEUE_MAPPING_CONCURRENCY


def warm(client: Any, functions: dict[str, names.Function], workers: int | None = None) -> float:
    """Invokes each function (name -> what it is) `workers` times at once (by default as many as a
    first burst needs, `workers_for_a_burst`), so the engine starts that many workers for it;
    returns the seconds it took. A failed invocation raises."""
    began = time.monotonic()

    def invoke(name: str) -> None:
        answer = client.invoke(FunctionName=name, Payload=json.dumps(event_for(functions[name])).encode())
        if answer.get("FunctionError"):
            raise RuntimeError(f"warming {name} failed: {answer['Payload'].read()[:500]!r}")

    calls = [
        name
        for name, function in functions.items()
        for _ in range(workers if workers is not None else workers_for_a_burst(function))
    ]
    with ThreadPoolExecutor(max_workers=max(1, len(calls))) as pool:
        list(pool.map(invoke, calls))
    return time.monotonic() - began
