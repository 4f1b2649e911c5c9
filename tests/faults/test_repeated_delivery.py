"""SQS delivers a message twice: the exact body the topic gave the PE queue is sent to it again
after the appointment completed. It must be recognised: one row, the stored outcome announced
again (what MySQL holds, never another), the status set once."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from tests.support.counts import dead_letter_depths
from tests.support.faults import FaultRig
from tests.support.polling import wait_for
from tests.support.queues import throwaway_queue
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.stages import OwnStage, on_stage
from tests.support.tally import STORED_BEFORE, mysql_rows, now_ms, table_of, tally, wait_all_told

# Its own stage: the copy is sent to its PE queue, and its DLQs' depths are read.
pytestmark = on_stage("t-repeat")

DELIVERY_ATTRIBUTES = ("RawMessageDelivery", "FilterPolicyScope", "FilterPolicy")


def pe_subscription_attributes(kit_config: KitConfig, sqs: Any, stack: Stack) -> dict[str, str]:
    """How the topic delivers to the PE queue: raw or not, and with which filter."""
    sns = kit_config.client("sns")
    pe_arn = sqs.get_queue_attributes(
        QueueUrl=stack.outputs[names.queue_output("PE")], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    [subscription] = [
        found
        for found in sns.list_subscriptions_by_topic(TopicArn=stack.outputs[names.TOPIC_ARN])["Subscriptions"]
        if found["Endpoint"] == pe_arn
    ]
    attributes = sns.get_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"])[
        "Attributes"
    ]
    return {name: attributes[name] for name in DELIVERY_ATTRIBUTES if name in attributes}


@pytest.fixture
def pe_copies(stage: OwnStage, report: Callable[[str], None]) -> Iterator[str]:
    kit_config, sqs, stack = stage.config, stage.config.client("sqs"), stage.stack
    """A throw-away queue subscribed to the stack's topic as the PE queue is (the same raw
    delivery and filter): it receives a copy of every message the topic gives the PE queue."""
    sns, delivery = kit_config.client("sns"), pe_subscription_attributes(kit_config, sqs, stack)
    assert delivery.get("RawMessageDelivery") == "true", delivery
    with throwaway_queue(sqs, "flt-pe-copies", senders=("sns.amazonaws.com",)) as (url, arn):
        subscription = sns.subscribe(
            TopicArn=stack.outputs[names.TOPIC_ARN],
            Protocol="sqs",
            Endpoint=arn,
            Attributes=delivery,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        report(f"subscribed a throw-away queue to the topic as the PE queue is: {delivery}")
        try:
            yield url
        finally:
            sns.unsubscribe(SubscriptionArn=subscription)


def copy_of(sqs: Any, url: str, appointment_id: str, timeout: float) -> dict[str, Any]:
    """The copy the topic delivered for one appointment (other PE appointments may pass too)."""

    def received() -> dict[str, Any] | None:
        for message in sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1, MessageAttributeNames=["All"]
        ).get("Messages", []):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if json.loads(message["Body"]).get("appointmentId") == appointment_id:
                return dict(message)
        return None

    return wait_for(received, timeout=timeout, describe=f"the topic's copy of {appointment_id}")


def test_a_message_delivered_twice_is_stored_and_settled_once_and_announced_as_stored(
    pe_copies: str,
    rig: FaultRig,
) -> None:
    insured, started_ms, dlq_before = (
        random_insured_id("FLT"),
        now_ms(),
        dead_letter_depths(rig.sqs, rig.stack.outputs),
    )
    accepted = rig.api.create({"insuredId": insured, "scheduleId": random_schedule_id(), "countryISO": "PE"})
    assert accepted.status == 202, accepted
    appointment_id = accepted.body["appointmentId"]
    delivered = copy_of(rig.sqs, pe_copies, appointment_id, timeout=rig.deadlines.flow)
    first = wait_all_told(
        rig.kit_config, rig.stack.outputs, started_ms, [appointment_id], timeout=rig.deadlines.flow
    )
    rig.report(f"posted 1 PE appointment; the topic's copy captured; first delivery: {first.summary()}")
    assert rig.api.statuses(insured) == {appointment_id: "completed"}

    rig.sqs.send_message(
        QueueUrl=rig.stack.outputs[names.queue_output("PE")],
        MessageBody=delivered["Body"],
        MessageAttributes={
            name: {"DataType": value["DataType"], "StringValue": value["StringValue"]}
            for name, value in delivered.get("MessageAttributes", {}).items()
        },
    )
    rig.report(f"sent the same body again to the PE queue ({len(delivered['Body'])} bytes)")

    def second_taken() -> bool:
        outcomes = tally(rig.kit_config, rig.stack.outputs, started_ms, [appointment_id]).outcomes
        return len(outcomes[appointment_id]) >= 2

    wait_for(second_taken, timeout=rig.deadlines.flow, describe="the processor to take the second delivery")
    told = wait_all_told(
        rig.kit_config, rig.stack.outputs, started_ms, [appointment_id], timeout=rig.deadlines.flow
    )
    rows, dlq_after = mysql_rows(rig.mysql_admin, insured), dead_letter_depths(rig.sqs, rig.stack.outputs)
    rig.report(
        f"after the second delivery: MySQL rows {sum(rows.values())}, {told.summary()}, "
        f"callback lines {told.callbacks[appointment_id]}, status {rig.api.statuses(insured)[appointment_id]}, "
        f"DLQ {dlq_before} -> {dlq_after}"
    )
    assert rows == Counter({(table_of("PE"), appointment_id): 1})
    assert told.outcomes == {appointment_id: ["scheduled", f"scheduled{STORED_BEFORE}"]}
    assert told.failures == {appointment_id: []}
    assert told.callbacks == {appointment_id: ["appointment settled", "appointment was settled already"]}
    assert rig.api.statuses(insured) == {appointment_id: "completed"}
    assert dlq_after == dlq_before
