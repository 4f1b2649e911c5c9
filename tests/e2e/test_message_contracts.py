"""The messages between the functions are contracts (appointments/messages.py, docs/asyncapi.json):
what the running flow carries matches the document, and a message from a newer writer, with a
field this stack's readers do not know, still completes.

A throw-away queue gets a copy of everything the stack's topic and bus carry; the flow's own
queues are not read, so no message is taken from the functions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pymysql
import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.domain import Appointment
from appointments.messages import AppointmentMessage
from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.appointments import appointment
from tests.support.contracts import committed_document, contract_errors
from tests.support.counts import schemas_holding
from tests.support.deadlines import Deadlines
from tests.support.polling import wait_completed, wait_for, wait_settled
from tests.support.queues import copies_of_the_flow, drain
from tests.support.random_refs import random_insured_id, random_schedule_id, random_suffix
from tests.support.tally import log_lines, now_ms

UNKNOWN_FIELDS_LOGGED = "message carries fields this reader does not know; read without them"


@pytest.fixture
def made_up_api(stack: Stack) -> AppointmentsApi:
    return AppointmentsApi(stack.api_url, stack.api_key)


@pytest.fixture
def copies(kit_config: KitConfig, stack: Stack) -> Iterator[tuple[Any, str]]:
    sqs = kit_config.client("sqs")
    with copies_of_the_flow(kit_config.client("sns"), kit_config.client("events"), sqs, stack.outputs) as url:
        yield sqs, url


def newer_writers_message(item: Appointment, new_field: str) -> str:
    """What an HTTP function one minor version ahead would publish: the same fields and one more."""
    body = AppointmentMessage.from_domain(item).model_dump(mode="json")
    return json.dumps(body | {"version": "1.1", new_field: "mobile"})


def test_a_message_from_a_newer_writer_with_an_unknown_field_completes(
    made_up_api: AppointmentsApi,
    kit_config: KitConfig,
    stack: Stack,
    mysql_admin: pymysql.connections.Connection,
    deadlines: Deadlines,
) -> None:
    # As the newer HTTP function would: store the appointment pending (marked), then publish.
    repository = DynamoAppointmentRepository(stack.outputs[names.TABLE_NAME], kit_config.client("dynamodb"))
    insured, started_ms = random_insured_id("E2E"), now_ms()
    # Made now: the reconciler leaves it alone while this test hands it over.
    sent = appointment(insured, correlation_id=f"contract-{random_suffix(8)}", created=datetime.now(UTC))
    new_field = f"bookingChannel{random_suffix(6)}"  # a set of fields no warm worker has seen yet
    repository.add(sent)
    kit_config.client("sns").publish(
        TopicArn=stack.outputs[names.TOPIC_ARN],
        Message=newer_writers_message(sent, new_field),
        MessageAttributes={
            "countryISO": {"DataType": "String", "StringValue": "PE"},
            "correlationId": {"DataType": "String", "StringValue": str(sent.correlation_id)},
        },
    )

    wait_completed(made_up_api, insured, sent.appointment_id, deadlines.flow)

    assert schemas_holding(mysql_admin, sent.appointment_id) == [names.schema("PE")]
    processor = stack.outputs[names.processor_function_output("PE")]
    noted = wait_for(
        lambda: [
            line
            for line in log_lines(kit_config, processor, started_ms)
            if line.get("message") == UNKNOWN_FIELDS_LOGGED and new_field in line.get("unknown_fields", [])
        ],
        timeout=deadlines.flow,
        describe="the processor's note of the unknown field",
    )
    print(f"newer writer's message {sent.appointment_id}: completed, row in mysql_pe, noted {noted[0]}")
    assert len(noted) == 1
    assert (noted[0]["unknown_fields"], noted[0]["version"]) == ([new_field], "1.1")
    assert (noted[0]["appointment_id"], noted[0]["correlation_id"]) == (
        sent.appointment_id,
        sent.correlation_id,
    )


def test_every_message_and_event_the_flow_carries_matches_the_asyncapi_document(
    made_up_api: AppointmentsApi, copies: tuple[Any, str], deadlines: Deadlines
) -> None:
    sqs, url = copies
    document, insured, slot = committed_document(), random_insured_id("E2E"), random_schedule_id()
    first = made_up_api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}).body
    wait_completed(made_up_api, insured, first["appointmentId"], deadlines.flow)
    taken = made_up_api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "PE"}).body
    chile = made_up_api.create({"insuredId": insured, "scheduleId": slot, "countryISO": "CL"}).body
    assert wait_settled(made_up_api, insured, taken["appointmentId"], deadlines.flow) == "rejected"
    wait_completed(made_up_api, insured, chile["appointmentId"], deadlines.flow)
    ours = {first["appointmentId"], taken["appointmentId"], chile["appointmentId"]}

    seen: list[dict[str, Any]] = []

    def all_of_ours_seen() -> bool:
        seen.extend(drain(sqs, url))
        bodies = [json.loads(message["Body"]) for message in seen]
        published = {body.get("appointmentId") for body in bodies}
        announced = {body.get("detail", {}).get("appointmentId") for body in bodies}
        return ours <= published and ours <= announced

    wait_for(all_of_ours_seen, timeout=deadlines.flow, describe="a copy of each message and event of ours")

    problems, kinds = {}, []
    for message in seen:
        body = json.loads(message["Body"])
        if "detail-type" in body:  # an event the bus carried
            kinds.append(body["detail-type"])
            errors = contract_errors(document, body["detail-type"], body)
        else:  # a message the topic carried, with its attributes
            kinds.append("AppointmentRequested")
            attributes = {k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()}
            errors = contract_errors(document, "AppointmentRequested", body, attributes)
        if errors:
            problems[message["Body"]] = errors
    print(f"validated {len(seen)} copies against docs/asyncapi.json: {sorted(set(kinds))}")
    assert problems == {}
    assert {"AppointmentRequested", "AppointmentScheduled", "AppointmentRejected"} <= set(kinds)
