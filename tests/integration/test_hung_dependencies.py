"""A dependency that accepts connections and never answers, behind the real clients the functions
build (appointments/budgets.py): the call gives up in time, and the function still answers
within its timeout, with what it could do kept safe."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.dynamodb_items import CREATED_IN
from appointments.adapters.eventbridge import EventBridgeSettledPublisher
from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.adapters.ssm import ApiKey
from appointments.budgets import (
    AWS_CALLS,
    HTTP_KEEP_SECONDS,
    KEEP_SECONDS,
    Deadline,
    DeadlineExceeded,
    aws_client,
)
from appointments.domain import (
    Appointment,
    AppointmentRequest,
    Country,
    PublishFailed,
    SlotOutcome,
)
from appointments.http.front_doors import AppointmentsApi
from appointments.http.routes import HttpBackend
from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from tests.support.silent_server import silent_server

FUNCTION_TIMEOUT_SECONDS = 10  # the template's, for the HTTP function and the processors
API_KEY = "integration-key-0123456789"


class TenSeconds:
    def get_remaining_time_in_millis(self) -> int:
        return FUNCTION_TIMEOUT_SECONDS * 1000


def client_at(kit_config: KitConfig, service: str, deadline: Deadline, endpoint: str) -> Any:
    """The functions' client, built the way their entry points build it, reaching `endpoint`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", kit_config.region)
        patch.setenv("AWS_ACCESS_KEY_ID", "test")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        return aws_client(service, deadline, endpoint_url=endpoint)


def test_a_hung_topic_is_answered_202_within_the_timeout_with_the_appointment_kept_for_the_reconciler(
    kit_config: KitConfig, stack: Stack, unique_id: str
) -> None:
    deadline = Deadline(keep=HTTP_KEEP_SECONDS)
    table = stack.outputs[names.TABLE_NAME]
    repository = DynamoAppointmentRepository(
        table, client_at(kit_config, "dynamodb", deadline, kit_config.endpoint)
    )
    with silent_server() as address:
        publisher = SnsAppointmentPublisher(
            "arn:aws:sns:us-east-1:000000000000:hung",
            client_at(kit_config, "sns", deadline, f"http://{address[0]}:{address[1]}"),
        )
        api = AppointmentsApi(HttpBackend(repository, publisher, ApiKey(lambda force: API_KEY)))
        event = {
            "version": "2.0",
            "routeKey": "POST /appointments",
            "rawPath": "/appointments",
            "rawQueryString": "",
            "headers": {"x-api-key": API_KEY, "content-type": "application/json"},
            "requestContext": {
                "http": {
                    "method": "POST",
                    "path": "/appointments",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                },
                "requestId": f"hung-{unique_id}",
                "stage": "$default",
            },
            "body": json.dumps({"insuredId": unique_id, "scheduleId": 1, "countryISO": "PE"}),
            "isBase64Encoded": False,
        }
        started = time.monotonic()
        deadline.start(TenSeconds())
        answer = api.resolve(event, TenSeconds())  # type: ignore[arg-type]
        took = time.monotonic() - started

    assert answer["statusCode"] == 202, answer
    assert took < FUNCTION_TIMEOUT_SECONDS - KEEP_SECONDS, f"answered after {took:.1f} s"
    appointment_id = json.loads(answer["body"])["appointmentId"]
    stored = kit_config.client("dynamodb").get_item(
        TableName=table,
        Key={"insuredId": {"S": unique_id}, "appointmentId": {"S": appointment_id}},
        ConsistentRead=True,
    )["Item"]
    # stored pending, listed where the reconciler's sweep reads it
    assert (stored["status"]["S"], stored[CREATED_IN]["S"]) == ("pending", "PE")


def test_a_hung_bus_fails_each_publish_and_the_last_one_before_the_deadline_without_trying(
    kit_config: KitConfig,
) -> None:
    deadline = Deadline()
    appointment = Appointment.pending(
        "01HUNGBUS", AppointmentRequest("ITHUNG", 1, Country.PE), datetime.now(UTC)
    )
    event = appointment.outcome_event(SlotOutcome.SCHEDULED, datetime.now(UTC))
    with silent_server() as address:
        events = EventBridgeSettledPublisher(
            "bus", client_at(kit_config, "events", deadline, f"http://{address[0]}:{address[1]}")
        )
        deadline.start(TenSeconds())
        started, causes = time.monotonic(), []
        while not causes or not isinstance(causes[-1], DeadlineExceeded):
            with pytest.raises(PublishFailed) as failed:
                events.publish(event)
            causes.append(failed.value.__cause__)
        took = time.monotonic() - started

    # An attempt starts only if it can end by the deadline; the sleep before a retry may follow.
    assert took <= FUNCTION_TIMEOUT_SECONDS - KEEP_SECONDS + AWS_CALLS.backoff_seconds, (took, causes)
    assert len(causes) >= 2  # it did try, then stopped trying
