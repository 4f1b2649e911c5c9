"""appointmentPe / appointmentCl: one code, deployed per country (COUNTRY_ISO).

Consumes the country queue in batches, writes each appointment to the country's MySQL
schema (or its rejection, when the slot is taken) and emits AppointmentScheduled or AppointmentRejected. Failed records are reported one by one.
"""

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
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import services
from appointments.adapters.eventbridge import EventBridgeSettledPublisher
from appointments.adapters.mysql import MySqlCountryUnitOfWork
from appointments.adapters.ssm import SsmMySqlSettings
from appointments.budgets import Deadline, aws_client
from appointments.log_context import lean_lambda_context
from appointments.messages import read_appointment_message
from appointments.settings import ProcessorSettings, load_settings
from appointments.tracing import handler_tracer

logger = Logger()
tracer = handler_tracer()  # X-Ray when the template turns tracing on; a no-op otherwise
settings = load_settings(ProcessorSettings)
# Every SSM, MySQL and EventBridge step is held to the invocation's deadline (budgets.py): a record
# that could not finish in time is not started, and is reported failed, so it is retried.
deadline = Deadline()
# One connection per warm worker; settings cached, and read again after a refused connection.
uow = MySqlCountryUnitOfWork(
    SsmMySqlSettings(
        settings.DB_PARAMETERS_PATH,
        settings.DB_PARAMETERS_MAX_AGE,
        provider=SSMProvider(boto3_client=aws_client("ssm", deadline)),
    ),
    tls_ca=settings.tls_ca,
    deadline=deadline,
)
events = EventBridgeSettledPublisher(settings.EVENT_BUS_NAME, aws_client("events", deadline))
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    appointment = read_appointment_message(record.body)
    tracer.put_annotation(key="appointment_id", value=appointment.appointment_id)
    logger.set_correlation_id(appointment.correlation_id)
    with logger.append_context_keys(appointment_id=appointment.appointment_id, message_id=record.message_id):
        try:
            booking = services.schedule_in_country(appointment, settings.COUNTRY_ISO, uow, events)
        except Exception:
            # Reported as a batch item failure by powertools; logged here with the appointment id,
            # so `make trace` can say why it stopped.
            logger.exception(
                "appointment failed, to be retried", receive_count=record.attributes.approximate_receive_count
            )
            raise
        logger.info(
            "appointment processed",
            outcome=booking.outcome.value,
            stored_before=booking.stored_before,
            country=settings.COUNTRY_ISO.value,
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
