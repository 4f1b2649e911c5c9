"""The country processor's place: put each record on the bus as AppointmentScheduled."""

from __future__ import annotations

import os
from typing import Any

import boto3

EVENT_BUS_NAME = os.environ["EVENT_BUS_NAME"]
events = boto3.client("events")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    entries: list[Any] = [
        {
            "EventBusName": EVENT_BUS_NAME,
            "Source": "rimac.appointments",
            "DetailType": "AppointmentScheduled",
            "Detail": record["body"],
        }
        for record in event["Records"]
    ]
    events.put_events(Entries=entries)  # a batch holds at most 10 records, PutEvents' limit
    return {"batchItemFailures": []}
