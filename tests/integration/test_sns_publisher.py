from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.domain import Country
from appointments.messages import AppointmentMessage
from appointments.services import new_appointment_id
from tests.support.appointments import appointment
from tests.support.queues import receive_one


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
