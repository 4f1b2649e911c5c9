"""The questions about the running stack that read a queue, against the engine: `make trace` and
the fault tests find a message among many in a dead-letter queue, and leave every one there."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bootstrap.stack.queries import QueueDepth, peek, queue_depth
from tests.support.queues import throwaway_queue

WAITING = 25  # more than one receive shows


def test_peek_reads_every_waiting_message_and_leaves_them_waiting(aws: Callable[[str], Any]) -> None:
    sqs = aws("sqs")
    bodies = [f"message-{n}" for n in range(WAITING)]
    with throwaway_queue(sqs, "it-peek") as (url, _arn):
        for start in range(0, WAITING, 10):
            sqs.send_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "MessageBody": body} for n, body in enumerate(bodies[start : start + 10])
                ],
            )

        first, second = peek(sqs, url), peek(sqs, url)

        assert sorted(first) == sorted(second) == sorted(bodies)
        assert queue_depth(sqs, url) == QueueDepth(waiting=WAITING, in_flight=0)
