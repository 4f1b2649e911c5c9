"""What each of the handlers' log lines carries about the invocation.

powertools' `inject_lambda_context` adds the function's name, ARN and memory size to every line:
about 170 bytes a line that the log group's name and the invocation's REPORT line already hold,
and CloudWatch Logs is paid by the byte ingested (docs/benchmark.md, "What the misses are made
of"). The request id (what ties a line to its REPORT line, `make trace` and the console's journey
read it), the cold start flag and the correlation id stay.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

SAID_BY_THE_LOG_GROUP = ("function_name", "function_arn", "function_memory_size")

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])


def lean_lambda_context(logger: Logger) -> Callable[[HandlerT], HandlerT]:
    """Under `@logger.inject_lambda_context`: takes out of each line what the log group says."""

    def decorate(handler: HandlerT) -> HandlerT:
        @functools.wraps(handler)
        def handle(event: Any, context: Any) -> Any:
            logger.remove_keys(list(SAID_BY_THE_LOG_GROUP))
            return handler(event, context)

        return handle  # type: ignore[return-value]

    return decorate
