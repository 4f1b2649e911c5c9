"""docs/asyncapi.json is generated from the message models and the resource names, is a valid
AsyncAPI 3.0 document, and describes what the writers write."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from jsonschema import Draft7Validator

from appointments.adapters.eventbridge import EventBridgeSettledPublisher
from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.domain import Appointment, AppointmentRequest, Country, SlotOutcome
from bootstrap import names
from bootstrap.config import ROOT
from bootstrap.contracts.asyncapi import asyncapi_document
from tests.support.contracts import committed_document, contract_errors

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
APPOINTMENT = Appointment.pending(
    "01JDDOC0000000000000000001", AppointmentRequest("CL7", 9, Country.CL, "r-1"), T0
)


class RecordingClient:
    """Takes what an adapter sends, as SNS and EventBridge would."""

    def __init__(self) -> None:
        self.calls: list[dict[str, object]] = []

    def publish(self, **call: object) -> dict[str, object]:
        self.calls.append(call)
        return {"MessageId": "m-1"}

    def put_events(self, **call: object) -> dict[str, object]:
        self.calls.append(call)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}


def test_the_committed_document_is_the_generated_one() -> None:
    committed = (ROOT / "docs" / "asyncapi.json").read_text()

    assert committed == asyncapi_document(), "docs/asyncapi.json is stale: run make asyncapi"


def test_the_document_is_valid_asyncapi_3() -> None:
    schema = json.loads((ROOT / "tests" / "schemas" / "asyncapi-3.0.0.json").read_text())

    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft7Validator(schema).iter_errors(committed_document())
    ]

    assert errors == []


def test_the_document_names_the_topic_every_queue_and_the_bus() -> None:
    channels = committed_document()["channels"]

    assert {channel["address"] for channel in channels.values()} == {
        names.stack_name("{stage}"),  # the topic and the bus
        *(pair.queue_name("{stage}") for pair in names.QUEUES.values()),
    }
    assert set(channels["callbackQueue"]["messages"]) == {"AppointmentScheduled", "AppointmentRejected"}


def test_what_the_sns_writer_publishes_is_the_documented_message() -> None:
    client = RecordingClient()
    SnsAppointmentPublisher("arn:topic", client).publish(APPOINTMENT)  # type: ignore[arg-type]
    [call] = client.calls
    attributes = {name: value["StringValue"] for name, value in call["MessageAttributes"].items()}  # type: ignore[attr-defined]

    assert (
        contract_errors(
            committed_document(), "AppointmentRequested", json.loads(str(call["Message"])), attributes
        )
        == []
    )


def test_what_the_eventbridge_writer_puts_is_the_documented_event_once_the_rule_wraps_it() -> None:
    document, client = committed_document(), RecordingClient()
    publisher = EventBridgeSettledPublisher("bus", client)  # type: ignore[arg-type]
    publisher.publish(APPOINTMENT.outcome_event(SlotOutcome.SCHEDULED, T0))
    publisher.publish(APPOINTMENT.outcome_event(SlotOutcome.REJECTED, T0))

    delivered = [
        {
            "version": "0",
            "id": "e",
            "source": entry["Source"],
            "detail-type": entry["DetailType"],
            "detail": json.loads(entry["Detail"]),
        }
        for call in client.calls
        for entry in call["Entries"]  # type: ignore[attr-defined]
    ]

    assert [event["detail-type"] for event in delivered] == ["AppointmentScheduled", "AppointmentRejected"]
    assert [contract_errors(document, event["detail-type"], event) for event in delivered] == [[], []]
    assert contract_errors(document, "AppointmentScheduled", delivered[1]) != []  # the detail-type is checked


def test_the_document_lets_a_newer_minor_grow_and_refuses_another_major() -> None:
    document = committed_document()
    body = {
        "version": "1.0",
        "appointmentId": APPOINTMENT.appointment_id,
        "insuredId": "CL7",
        "scheduleId": 9,
        "countryISO": "CL",
        "status": "pending",
        "createdAt": T0.isoformat(),
        "updatedAt": T0.isoformat(),
    }

    assert (
        contract_errors(document, "AppointmentRequested", body | {"version": "1.7", "channel": "web"}) == []
    )
    assert contract_errors(document, "AppointmentRequested", body | {"version": "2.0"}) != []
    assert (
        contract_errors(
            document, "AppointmentRequested", {k: v for k, v in body.items() if k != "scheduleId"}
        )
        != []
    )
