"""Puts AppointmentScheduled and AppointmentRejected events on the appointments event bus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from appointments.domain import AppointmentSettled, PublishFailed
from appointments.messages import DETAIL_TYPES, EVENT_SOURCE, AppointmentSettledDetail
from appointments.ports import SettledEventPublisher

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


class EventBridgeSettledPublisher(SettledEventPublisher):
    def __init__(self, bus_name: str, client: EventBridgeClient) -> None:
        self._bus_name = bus_name
        self._client = client

    def publish(self, event: AppointmentSettled) -> None:
        try:
            response = self._client.put_events(
                Entries=[
                    {
                        "EventBusName": self._bus_name,
                        "Source": EVENT_SOURCE,
                        "DetailType": DETAIL_TYPES[event.status],
                        "Detail": AppointmentSettledDetail.from_domain(event).model_dump_json(),
                    }
                ]
            )
        except (ClientError, BotoCoreError) as error:
            raise PublishFailed(f"the bus did not take the event of {event.appointment_id}") from error
        # PutEvents answers 200 even when an entry is rejected; the entry carries the error.
        if response.get("FailedEntryCount", 0):
            entry = response["Entries"][0]
            raise PublishFailed(
                f"event for appointment {event.appointment_id} rejected: "
                f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            )
