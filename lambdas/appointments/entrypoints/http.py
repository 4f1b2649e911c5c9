"""appointmentHttp: POST /appointments and GET /appointments/{insuredId}, behind an HTTP or a REST API."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.adapters.ssm import ssm_api_key
from appointments.budgets import HTTP_KEEP_SECONDS, KEEP_SECONDS, Deadline, aws_client
from appointments.http.front_doors import AppointmentsApi
from appointments.http.routes import HttpBackend
from appointments.log_context import lean_lambda_context
from appointments.settings import HttpSettings, load_settings
from appointments.tracing import handler_tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

logger = Logger()
tracer = handler_tracer()  # X-Ray when the template turns tracing on; a no-op otherwise
settings = load_settings(HttpSettings)
# Every call is held to the invocation's deadline, keeping back time for the idempotency
# record's last write, whose client keeps back only the answer's (budgets.py).
deadline = Deadline(keep=HTTP_KEEP_SECONDS)


@cache
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Made by the first request with an Idempotency-Key (its own DynamoDB client)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings.IDEMPOTENCY_TABLE_NAME,
        boto3_client=aws_client("dynamodb", deadline, keep=KEEP_SECONDS),
    )


api = AppointmentsApi(
    HttpBackend(
        repository=DynamoAppointmentRepository(settings.TABLE_NAME, aws_client("dynamodb", deadline)),
        publisher=SnsAppointmentPublisher(settings.TOPIC_ARN, aws_client("sns", deadline)),
        # One key per client application, cached for API_KEY_MAX_AGE seconds (a minute unless the
        # template's ApiKeyCacheSeconds says otherwise); a key that does not match is checked
        # against SSM again (at most every few seconds), so a new key works at once.
        api_key=ssm_api_key(
            settings.API_KEY_PARAMETER,
            max_age=settings.API_KEY_MAX_AGE,
            provider=SSMProvider(boto3_client=aws_client("ssm", deadline)),
        ),
        idempotency_store=idempotency_store,
    )
)


@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@lean_lambda_context(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deadline.start(context)
    return api.resolve(event, context)
