"""Throw-away queues for tests that listen to what the stack's topic or bus sends, and reading them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from appointments.messages import EVENT_SOURCE
from bootstrap import names
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


@contextmanager
def copies_of_the_flow(sns: Any, events: Any, sqs: Any, outputs: dict[str, str]) -> Iterator[str]:
    """A throw-away queue that receives a copy of every message the stack's topic carries (raw, as
    the country queues get them, unfiltered) and of every event its bus carries from the
    appointments (as the callback queue gets them); yields its url. The flow's own queues are not
    read, so no message is taken from the functions."""
    bus, rule = outputs[names.EVENT_BUS_NAME], f"copies-{random_suffix(12).lower()}"
    with throwaway_queue(sqs, "copies") as (url, arn):
        subscription = sns.subscribe(
            TopicArn=outputs[names.TOPIC_ARN],
            Protocol="sqs",
            Endpoint=arn,
            Attributes={"RawMessageDelivery": "true"},
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": [EVENT_SOURCE]}))
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "copies", "Arn": arn}])
        try:
            yield url
        finally:
            events.remove_targets(Rule=rule, EventBusName=bus, Ids=["copies"])
            events.delete_rule(Name=rule, EventBusName=bus)
            sns.unsubscribe(SubscriptionArn=subscription)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message waiting in the queue now, removed from it, with its message attributes."""
    taken: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return taken
        for message in batch:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        taken += batch


def receive_one(sqs: Any, url: str, timeout: int = 10) -> dict[str, Any]:
    """Long-poll the queue once (the engine answers as soon as a message lands)."""
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=timeout, MessageAttributeNames=["All"]
    ).get("Messages", [])
    assert messages, f"no message reached {url} within {timeout}s"
    return dict(messages[0])
