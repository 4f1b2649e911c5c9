"""appointmentHttp: POST /appointments and GET /appointments/{insuredId}, behind an HTTP or a REST API."""

from __future__ import annotations

from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.api import AppointmentsApi
from appointments.settings import HttpSettings, load_settings
from appointments.tracing import handler_tracer

logger = Logger()
tracer = handler_tracer()  # X-Ray when the template turns tracing on; a no-op otherwise
settings = load_settings(HttpSettings)
api = AppointmentsApi(
    repository=DynamoAppointmentRepository(settings.TABLE_NAME, boto3.client("dynamodb")),
    publisher=SnsAppointmentPublisher(settings.TOPIC_ARN, boto3.client("sns")),
    # Cached for five minutes: a rotated key is honoured without a redeploy.
    api_key=lambda: str(parameters.get_parameter(settings.API_KEY_PARAMETER, decrypt=True, max_age=300)),
    idempotency_store=DynamoDBPersistenceLayer(table_name=settings.IDEMPOTENCY_TABLE_NAME),
)


@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.resolve(event, context)
