from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from appointments.adapters.eventbridge import EventBridgeSettledPublisher
from appointments.domain import AppointmentSettled, AppointmentStatus, Country
from appointments.messages import SettledEvent
from appointments.services import new_appointment_id
from tests.support.queues import receive_one


@pytest.fixture
def bus_to_queue(aws: Callable[[str], Any], listening_queue: tuple[str, str]) -> Iterator[tuple[str, str]]:
    """A test bus whose rule (the stack's pattern) targets the test queue; yields (bus, queue_url)."""
    events = aws("events")
    queue_url, queue_arn = listening_queue
    bus = f"it-{new_appointment_id().lower()}"
    events.create_event_bus(Name=bus)
    pattern = {
        "source": ["rimac.appointments"],
        "detail-type": ["AppointmentScheduled", "AppointmentRejected"],
    }
    events.put_rule(Name="scheduled", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="scheduled", EventBusName=bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    yield bus, queue_url
    events.remove_targets(Rule="scheduled", EventBusName=bus, Ids=["queue"])
    events.delete_rule(Name="scheduled", EventBusName=bus)
    events.delete_event_bus(Name=bus)


@pytest.mark.parametrize(
    ("status", "reason"),
    [(AppointmentStatus.COMPLETED, None), (AppointmentStatus.REJECTED, "schedule 3 in PE is already taken")],
)
def test_the_event_reaches_a_rule_target_in_the_shape_the_callback_reads(
    aws: Callable[[str], Any],
    bus_to_queue: tuple[str, str],
    unique_id: str,
    status: AppointmentStatus,
    reason: str | None,
) -> None:
    bus, queue_url = bus_to_queue
    event = AppointmentSettled(
        appointment_id=new_appointment_id(),
        insured_id=unique_id,
        schedule_id=3,
        country=Country.PE,
        status=status,
        settled_at=datetime(2026, 11, 27, 12, 0, 1, 250000, tzinfo=UTC),
        reason=reason,
    )

    EventBridgeSettledPublisher(bus, aws("events")).publish(event)

    body = receive_one(aws("sqs"), queue_url)["Body"]
    assert SettledEvent.model_validate_json(body).to_domain() == event
