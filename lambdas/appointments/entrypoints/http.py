"""appointmentHttp: POST /appointments and GET /appointments/{insuredId}, behind an HTTP or a REST API."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.adapters.ssm import ssm_api_key
from appointments.api import AppointmentsApi, HttpBackend
from appointments.settings import HttpSettings, load_settings
from appointments.tracing import handler_tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

logger = Logger()
tracer = handler_tracer()  # X-Ray when the template turns tracing on; a no-op otherwise
settings = load_settings(HttpSettings)


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Made by the first request with an Idempotency-Key (its own DynamoDB client)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=settings.IDEMPOTENCY_TABLE_NAME)


api = AppointmentsApi(
    HttpBackend(
        repository=DynamoAppointmentRepository(settings.TABLE_NAME, boto3.client("dynamodb")),
        publisher=SnsAppointmentPublisher(settings.TOPIC_ARN, boto3.client("sns")),
        # One key per client application, cached for a minute; a key that does not match is
        # checked against SSM again (at most every few seconds), so a new key works at once.
        api_key=ssm_api_key(settings.API_KEY_PARAMETER),
        idempotency_store=idempotency_store,
    )
)


@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(event, context)
