"""appointmentReconciler: hands over accepted appointments the topic has not taken yet.

Runs on a schedule (the template's rule, every minute), one run at a time (the template reserves
it one execution and no asynchronous retry). An appointment is stored before it is published,
listed by country in the order it was created. This function sweeps that list from where its
last run stopped (the sweep table): one still pending after `HAND_OVER_AFTER_SECONDS` was refused
by the topic (or its HTTP function stopped between the write and the publish), or is held up
downstream; it is published again and put in the outbox, which the callback's settling write
takes it out of. Then it walks the outbox and publishes again those due. A page at a time, the
countries in turn, until both are walked or the invocation's time is nearly spent; what is left
waits for the next run. Each hand-over is recorded on the item, and the next waits twice as long
as the one before (from `HAND_OVER_AFTER_SECONDS`), so a long outage downstream does not
republish an appointment every minute. `{"olderThanSeconds": N}` in the
event overrides the age below which an appointment is left to its own flow.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import hand_over
from appointments.adapters.dynamodb import DynamoAppointmentRepository
from appointments.adapters.sns import SnsAppointmentPublisher
from appointments.budgets import Deadline, aws_client
from appointments.log_context import lean_lambda_context
from appointments.settings import ReconcilerSettings, load_settings

logger = Logger()
settings = load_settings(ReconcilerSettings)
deadline = Deadline()
repository = DynamoAppointmentRepository(
    settings.TABLE_NAME, aws_client("dynamodb", deadline), sweep_table=settings.SWEEP_TABLE_NAME
)
publisher = SnsAppointmentPublisher(settings.TOPIC_ARN, aws_client("sns", deadline))


def log_page(page: hand_over.PageHandedOver) -> None:
    for appointment_id in page.handed_over:
        logger.info("appointment handed over late", appointment_id=appointment_id)
    for appointment_id, why in page.still_waiting.items():
        logger.warning("appointment not handed over", appointment_id=appointment_id, reason=why)


@logger.inject_lambda_context
@lean_lambda_context(logger)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deadline.start(context)
    older_than = int(event.get("olderThanSeconds", settings.HAND_OVER_AFTER_SECONDS))
    report = hand_over.hand_over_unpublished(
        repository,
        publisher,
        timedelta(seconds=older_than),
        first_wait=timedelta(seconds=settings.HAND_OVER_AFTER_SECONDS),
        seconds_left=deadline.left,  # the deadline every AWS call of the run is held to
        on_page=log_page,
    )
    logger.info(
        "outbox walked" if report.walked else "out of time: the next run goes on",
        handed_over=len(report.handed_over),
        still_waiting=len(report.still_waiting),
    )
    return {
        "handedOver": report.handed_over,
        "stillWaiting": list(report.still_waiting),
        "walked": report.walked,
    }
