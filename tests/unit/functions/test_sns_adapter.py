"""The SNS publisher's batches, with a hand-written client that answers as AWS does: the local
engine fails an entry only when it is too large, so a failed entry beside taken ones, and an
entry the answer leaves out, are checked here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError, EndpointConnectionError

from appointments.adapters.sns import PUBLISH_BATCH_LIMIT, SnsAppointmentPublisher
from appointments.domain import Appointment, AppointmentRequest, Country
from appointments.messages import AppointmentMessage

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def appointment(number: int, correlation_id: str | None = "req-1") -> Appointment:
    country = Country.PE if number % 2 else Country.CL
    request = AppointmentRequest(f"INS{number:03}", 100 + number, country, correlation_id=correlation_id)
    return Appointment.pending(f"01JDAPPOINTMENT{number:011}", request, T0)


class AnsweringSnsClient:
    """Records each call; fails the entries at the positions in `fail`, leaves out those in
    `leave_out`, or refuses the whole call with `refuse`."""

    def __init__(
        self,
        fail: frozenset[str] = frozenset(),
        leave_out: frozenset[str] = frozenset(),
        refuse: Exception | None = None,
    ) -> None:
        self.publishes: list[dict[str, Any]] = []
        self.batches: list[dict[str, Any]] = []
        self.fail, self.leave_out, self.refuse = fail, leave_out, refuse

    def publish(self, **call: Any) -> dict[str, Any]:
        self.publishes.append(call)
        return {"MessageId": "m"}

    def publish_batch(self, **call: Any) -> dict[str, Any]:
        self.batches.append(call)
        if self.refuse:
            raise self.refuse
        ids = [entry["Id"] for entry in call["PublishBatchRequestEntries"]]
        return {
            "Successful": [
                {"Id": i, "MessageId": f"m-{i}"} for i in ids if i not in self.fail | self.leave_out
            ],
            "Failed": [
                {"Id": i, "Code": "InternalError", "Message": "try again", "SenderFault": False}
                for i in ids
                if i in self.fail
            ],
        }


def publisher(client: AnsweringSnsClient) -> SnsAppointmentPublisher:
    return SnsAppointmentPublisher("arn:aws:sns:us-east-1:000000000000:topic", client)  # type: ignore[arg-type]


def test_a_batch_entry_is_exactly_the_message_and_attributes_of_a_single_publish() -> None:
    client = AnsweringSnsClient()
    one, without_correlation = appointment(1), appointment(2, correlation_id=None)

    publisher(client).publish(one)
    publisher(client).publish(without_correlation)
    refused = publisher(client).publish_batch([one, without_correlation])

    assert refused == {}
    [batch] = client.batches
    assert batch["TopicArn"] == client.publishes[0]["TopicArn"]
    entries = batch["PublishBatchRequestEntries"]
    for entry, single in zip(entries, client.publishes, strict=True):
        assert (entry["Message"], entry["MessageAttributes"]) == (
            single["Message"],
            single["MessageAttributes"],
        )
    assert AppointmentMessage.model_validate_json(entries[0]["Message"]).to_domain() == one
    assert entries[0]["MessageAttributes"] == {
        "countryISO": {"DataType": "String", "StringValue": "PE"},
        "correlationId": {"DataType": "String", "StringValue": "req-1"},
    }
    assert entries[1]["MessageAttributes"] == {"countryISO": {"DataType": "String", "StringValue": "CL"}}


def test_many_appointments_go_in_calls_of_at_most_ten_entries() -> None:
    client = AnsweringSnsClient()

    refused = publisher(client).publish_batch([appointment(n) for n in range(23)])

    assert refused == {}
    assert [len(b["PublishBatchRequestEntries"]) for b in client.batches] == [PUBLISH_BATCH_LIMIT, 10, 3]
    assert publisher(client).publish_batch([]) == {}
    assert len(client.batches) == 3  # nothing to publish, no call


def test_a_failed_entry_is_reported_alone_and_its_batch_mates_are_taken() -> None:
    client = AnsweringSnsClient(fail=frozenset({"3"}), leave_out=frozenset({"7"}))
    batch = [appointment(n) for n in range(10)]

    refused = publisher(client).publish_batch(batch)

    assert refused == {
        batch[3].appointment_id: "InternalError: try again",
        batch[7].appointment_id: "the topic answered nothing for it",
    }


def test_a_refused_call_reports_each_of_its_entries_and_the_next_call_still_goes() -> None:
    denied = ClientError({"Error": {"Code": "AuthorizationError", "Message": "not allowed"}}, "PublishBatch")
    client = AnsweringSnsClient(refuse=denied)

    refused = publisher(client).publish_batch([appointment(n) for n in range(12)])

    assert len(client.batches) == 2
    assert len(refused) == 12
    assert set(refused.values()) == {"the topic refused the batch: AuthorizationError: not allowed"}
    unreachable = AnsweringSnsClient(refuse=EndpointConnectionError(endpoint_url="https://sns"))
    [why] = set(publisher(unreachable).publish_batch([appointment(1)]).values())
    assert why.startswith("the topic refused the batch: EndpointConnectionError: Could not connect")
