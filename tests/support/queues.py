"""Throw-away queues for tests that listen to what the stack's topic or bus sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.support.random_refs import random_suffix

SENDERS = ("sns.amazonaws.com", "events.amazonaws.com")


@contextmanager
def throwaway_queue(sqs: Any, name: str, senders: tuple[str, ...] = SENDERS) -> Iterator[tuple[str, str]]:
    """A new queue `<name>-<random>` that these services may send to; yields (url, arn), then
    deletes it."""
    url = sqs.create_queue(QueueName=f"{name}-{random_suffix(12).lower()}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": list(senders)},
                "Action": "sqs:SendMessage",
                "Resource": arn,
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    try:
        yield url, arn
    finally:
        sqs.delete_queue(QueueUrl=url)
