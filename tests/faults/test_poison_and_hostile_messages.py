"""Messages that reach a country queue without going through the API: a malformed one must go to
the DLQ without holding back its batch-mates, and hostile strings must be stored as data."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pymysql
import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.domain import Appointment, Country
from appointments.messages import AppointmentMessage
from bootstrap import names
from bootstrap.stack.queries import peek, waiting_messages
from tests.support.appointments import appointment
from tests.support.deadlines import Deadlines
from tests.support.faults import holds
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id
from tests.support.stages import OwnStage, on_stage
from tests.support.tally import now_ms, wait_all_told

# Its own stage: the poison is in its queues and DLQs alone; retries every 8 s, the DLQ after 2.
pytestmark = on_stage("t-poison")


@pytest.fixture
def repository(stage: OwnStage) -> DynamoAppointmentRepository:
    return DynamoAppointmentRepository(stage.stack.outputs[names.TABLE_NAME], stage.config.client("dynamodb"))


def stored_pending(repository: DynamoAppointmentRepository, insured: str, country: Country) -> Appointment:
    """An appointment as POST would leave it: pending in DynamoDB, its message still to send. Made
    now, so the reconciler leaves it to the message the test sends for a while."""
    item = appointment(insured, country=country, created=datetime.now(UTC))
    repository.add(item)
    return item


def taken_from(sqs: Any, dlq: str, marker: str) -> int | None:
    """Once the message holding `marker` is in the DLQ: removed, and how often it was received
    before this read (the queue keeps the count it had in its source queue)."""
    for message in waiting_messages(sqs, dlq):
        if marker in message["Body"]:
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
            return int(message["Attributes"]["ApproximateReceiveCount"]) - 1
    return None


def test_a_poison_message_goes_to_the_dlq_without_holding_back_its_batch_mates(
    stage: OwnStage,
    deadlines: Deadlines,
    repository: DynamoAppointmentRepository,
    report: Callable[[str], None],
) -> None:
    api, sqs, stack, kit_config = stage.api, stage.config.client("sqs"), stage.stack, stage.config
    insured, queue, dlq = (
        random_insured_id("FLT"),
        stack.outputs[names.queue_output(Country.PE)],
        stack.outputs[names.dead_letter_queue_output(Country.PE)],
    )
    good = [stored_pending(repository, insured, Country.PE) for _ in range(3)]
    ids = [appointment.appointment_id for appointment in good]
    marker = f"poison-{uuid.uuid4().hex}"
    entries = [{"Id": "poison", "MessageBody": f'{{"not an appointment": "{marker}"'}] + [
        {"Id": f"good{n}", "MessageBody": AppointmentMessage.from_domain(a).model_dump_json()}
        for n, a in enumerate(good)
    ]

    started_ms = now_ms()
    sqs.send_message_batch(QueueUrl=queue, Entries=entries)
    report("sent one malformed message and 3 good ones to the PE queue in one batch")

    wait_for(
        lambda: set(api.statuses(insured).values()) == {"completed"},
        timeout=deadlines.flow,
        describe="the 3 good messages completed",
    )
    # Each receive of a good message is logged: a failed attempt with its receive count and its
    # own exception, a processed one with its outcome. Held back by the poison (its batch failed
    # as a whole), a good one would be delivered again after it was processed: a second outcome
    # (", stored before"). A failed attempt of its own (MySQL slow to answer a cold worker on a
    # busy machine) is retried like any other, and is not the poison's doing.
    told = wait_all_told(kit_config, stack.outputs, started_ms, ids, timeout=deadlines.flow)
    report(f"the 3 good ones: {told.summary()}; failed attempts per message {list(told.failures.values())}")
    assert told.outcomes == {i: ["scheduled"] for i in ids}
    assert told.callbacks == {i: ["appointment settled"] for i in ids}

    poison_receives = wait_for(
        lambda: taken_from(sqs, dlq, marker),
        timeout=kit_config.queue_visibility_timeout * (kit_config.max_receive_count + 3),
        interval=1,
        describe="the poison message in the PE dead-letter queue",
    )
    dead_letters = peek(sqs, dlq)
    report(
        f"sent 4 (1 poison), completed {len(api.statuses(insured))}; the poison reached the DLQ after "
        f"{poison_receives} receives (limit {kit_config.max_receive_count}) and was removed from it; "
        f"good ones among the DLQ's {len(dead_letters)} messages: {sum(holds(dead_letters, i) for i in ids)}"
    )
    assert not any(holds(dead_letters, i) for i in ids)
    assert poison_receives >= kit_config.max_receive_count


def test_sql_injection_strings_travel_the_whole_flow_as_data(
    stage: OwnStage,
    repository: DynamoAppointmentRepository,
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
    report: Callable[[str], None],
) -> None:
    sqs, stack = stage.config.client("sqs"), stage.stack
    hostile = "x'); DROP TABLE appointments;--"
    appointment = stored_pending(repository, hostile, Country.CL)

    sqs.send_message(
        QueueUrl=stack.outputs[names.queue_output(Country.CL)],
        MessageBody=AppointmentMessage.from_domain(appointment).model_dump_json(),
    )
    report(f"sent an appointment whose insuredId is {hostile!r} to the CL queue")

    wait_for(
        lambda: (
            [
                stored.status.value
                for stored in repository.list_for_insured(hostile).items
                if stored.appointment_id == appointment.appointment_id
            ]
            == ["completed"]
        ),
        timeout=deadlines.flow,
        describe="the hostile appointment completed",
    )
    schema = names.schema(Country.CL)
    with mysql_admin.cursor() as cursor:
        cursor.execute(
            f"SELECT insured_id FROM {schema}.appointments WHERE appointment_id = %s",  # noqa: S608
            (appointment.appointment_id,),
        )
        assert cursor.fetchall() == ((hostile,),)
        assert cursor.execute(f"SHOW TABLES FROM {schema} LIKE 'appointments'") == 1
    report(f"stored verbatim in {schema}.appointments, which still exists; the appointment completed")
