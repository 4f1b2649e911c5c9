from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.domain import Country
from appointments.messages import AppointmentMessage
from appointments.services import new_appointment_id
from bootstrap import names
from bootstrap.dev.kit import Stack
from tests.support.appointments import appointment
from tests.support.queues import receive_one, throwaway_queue


@pytest.fixture
def topic_to_queue(aws: Callable[[str], Any], listening_queue: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """A test topic with a raw subscription to the test queue; yields (topic_arn, queue_url)."""
    sns = aws("sns")
    queue_url, queue_arn = listening_queue
    topic_arn = sns.create_topic(Name=f"it-{new_appointment_id().lower()}")["TopicArn"]
    sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    yield topic_arn, queue_url
    sns.delete_topic(TopicArn=topic_arn)


def test_the_published_message_carries_the_appointment_and_the_country_attribute(
    aws: Callable[[str], Any], topic_to_queue: tuple[str, str], unique_id: str
) -> None:
    topic_arn, queue_url = topic_to_queue
    item = appointment(unique_id, country=Country.CL, correlation_id="req-" + unique_id)

    SnsAppointmentPublisher(topic_arn, aws("sns")).publish(item)

    message = receive_one(aws("sqs"), queue_url)
    assert AppointmentMessage.model_validate_json(message["Body"]).to_domain() == item
    assert message["MessageAttributes"]["countryISO"] == {"DataType": "String", "StringValue": "CL"}
    assert message["MessageAttributes"]["correlationId"]["StringValue"] == "req-" + unique_id


@pytest.fixture
def topic_to_country_queues(aws: Callable[[str], Any]) -> Iterator[tuple[str, dict[Country, str]]]:
    """A test topic with a queue per country behind the template's filter policy (raw delivery,
    countryISO in the message attributes); yields (topic_arn, country -> queue_url)."""
    sns, sqs = aws("sns"), aws("sqs")
    topic_arn = sns.create_topic(Name=f"it-{new_appointment_id().lower()}")["TopicArn"]
    with ExitStack() as queues:
        urls = {}
        for country in Country:
            url, arn = queues.enter_context(throwaway_queue(sqs, f"it-{country.value.lower()}"))
            sns.subscribe(
                TopicArn=topic_arn,
                Protocol="sqs",
                Endpoint=arn,
                Attributes={
                    "RawMessageDelivery": "true",
                    "FilterPolicyScope": "MessageAttributes",
                    "FilterPolicy": json.dumps({"countryISO": [country.value]}),
                },
            )
            urls[country] = url
        yield topic_arn, urls
        sns.delete_topic(TopicArn=topic_arn)


def test_a_batch_publish_reaches_each_country_queue_through_the_filter_policies_as_a_single_one_does(
    aws: Callable[[str], Any], topic_to_country_queues: tuple[str, dict[Country, str]], unique_id: str
) -> None:
    topic_arn, queues = topic_to_country_queues
    batch = [
        appointment(unique_id, country=names.country_in_turn(n), correlation_id=f"req-{n}")
        for n in range(13)  # two calls: ten entries, then three
    ]

    refused = SnsAppointmentPublisher(topic_arn, aws("sns")).publish_batch(batch)

    assert refused == {}
    for country, url in queues.items():
        messages = receive_all(aws("sqs"), url, expected=sum(a.country is country for a in batch))
        received = {AppointmentMessage.model_validate_json(m["Body"]).to_domain(): m for m in messages}
        assert set(received) == {a for a in batch if a.country is country}
        for sent, message in received.items():
            assert message["MessageAttributes"] == {
                "countryISO": {"DataType": "String", "StringValue": country.value},
                "correlationId": {"DataType": "String", "StringValue": sent.correlation_id},
            }


def receive_all(sqs: Any, url: str, expected: int, timeout: float = 10) -> list[dict[str, Any]]:
    """The `expected` messages of the queue, long-polling until they are all there."""
    messages: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        batch = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", [])
        messages += batch
    assert len(messages) == expected, f"{len(messages)} of {expected} messages reached {url}"
    return messages


def test_a_batch_on_a_topic_that_is_not_there_reports_every_entry_refused(
    aws: Callable[[str], Any], stack: Stack, unique_id: str
) -> None:
    missing = stack.outputs[names.TOPIC_ARN] + "-missing"
    batch = [appointment(unique_id) for _ in range(3)]

    refused = SnsAppointmentPublisher(missing, aws("sns")).publish_batch(batch)

    assert sorted(refused) == sorted(a.appointment_id for a in batch)
    assert all(why.startswith("the topic refused the batch: NotFound") for why in refused.values())
