"""appointmentCallback: marks appointments completed or rejected as their processor's event arrives."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import services
from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.budgets import Deadline, aws_client
from appointments.log_context import lean_lambda_context
from appointments.messages import read_settled_event
from appointments.settings import CallbackSettings, load_settings
from appointments.tracing import handler_tracer

logger = Logger()
tracer = handler_tracer()  # X-Ray when the template turns tracing on; a no-op otherwise
settings = load_settings(CallbackSettings)
deadline = Deadline()  # an event that could not be settled in time is reported failed (budgets.py)
repository = DynamoAppointmentRepository(settings.TABLE_NAME, aws_client("dynamodb", deadline))
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    event = read_settled_event(record.body)
    tracer.put_annotation(key="appointment_id", value=event.appointment_id)
    logger.set_correlation_id(event.correlation_id)
    with logger.append_context_keys(appointment_id=event.appointment_id, message_id=record.message_id):
        changed = services.settle_appointment(event, repository)
        logger.info(
            "appointment settled" if changed else "appointment was settled already", status=event.status.value
        )


@tracer.capture_lambda_handler
@logger.inject_lambda_context
@lean_lambda_context(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    deadline.start(context)
    # SQS never sends an empty batch; `make up` and `make watch` send one to start a worker
    if event.get("Records") == []:
        return {"batchItemFailures": []}
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
