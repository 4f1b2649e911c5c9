"""PutEvents answers 200 even when it rejects an entry. The local engine never rejects one, so this
path is checked here with a hand-written client that answers as AWS does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from appointments.adapters.eventbridge import EventBridgeSettledPublisher
from appointments.domain import AppointmentSettled, AppointmentStatus, Country, PublishFailed


class RejectingEventsClient:
    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        self.entries += Entries
        return {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}],
        }


def test_a_rejected_entry_raises_so_the_record_is_retried() -> None:
    client = RejectingEventsClient()
    publisher = EventBridgeSettledPublisher("bus", client)  # type: ignore[arg-type]
    event = AppointmentSettled(
        "01ABC", "PE001", 1, Country.PE, AppointmentStatus.COMPLETED, datetime(2026, 1, 1, tzinfo=UTC)
    )

    with pytest.raises(PublishFailed, match="01ABC rejected: InternalFailure try again"):
        publisher.publish(event)

    [entry] = client.entries
    assert (entry["EventBusName"], entry["Source"], entry["DetailType"]) == (
        "bus",
        "rimac.appointments",
        "AppointmentScheduled",
    )
