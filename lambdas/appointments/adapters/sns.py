"""Publishes new appointments to the SNS topic; subscriptions filter on the countryISO attribute."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from appointments.domain import Appointment, PublishFailed
from appointments.messages import AppointmentMessage
from appointments.ports import AppointmentRequestPublisher

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef, PublishBatchRequestEntryTypeDef

COUNTRY_ATTRIBUTE = "countryISO"
CORRELATION_ATTRIBUTE = "correlationId"
PUBLISH_BATCH_LIMIT = 10  # entries SNS takes in one PublishBatch


def _attributes(appointment: Appointment) -> dict[str, MessageAttributeValueTypeDef]:
    attributes: dict[str, MessageAttributeValueTypeDef] = {
        COUNTRY_ATTRIBUTE: {"DataType": "String", "StringValue": appointment.country.value}
    }
    if appointment.correlation_id:
        attributes[CORRELATION_ATTRIBUTE] = {
            "DataType": "String",
            "StringValue": appointment.correlation_id,
        }
    return attributes


def _body(appointment: Appointment) -> str:
    return AppointmentMessage.from_domain(appointment).model_dump_json()


def _why(error: ClientError | BotoCoreError) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')}: {details.get('Message', '')}"
    return f"{type(error).__name__}: {error}"


class SnsAppointmentPublisher(AppointmentRequestPublisher):
    def __init__(self, topic_arn: str, client: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def publish(self, appointment: Appointment) -> None:
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Message=_body(appointment),
                MessageAttributes=_attributes(appointment),
            )
        except (ClientError, BotoCoreError) as error:
            raise PublishFailed(f"the topic did not take appointment {appointment.appointment_id}") from error

    def publish_batch(self, appointments: Sequence[Appointment]) -> dict[str, str]:
        refused: dict[str, str] = {}
        for start in range(0, len(appointments), PUBLISH_BATCH_LIMIT):
            refused |= self._publish_at_once(appointments[start : start + PUBLISH_BATCH_LIMIT])
        return refused

    def _publish_at_once(self, appointments: Sequence[Appointment]) -> dict[str, str]:
        # Entry ids are positions: unique within the call, and within SNS's 80-character limit
        entries: list[PublishBatchRequestEntryTypeDef] = [
            {"Id": str(n), "Message": _body(appointment), "MessageAttributes": _attributes(appointment)}
            for n, appointment in enumerate(appointments)
        ]
        try:
            answer = self._client.publish_batch(TopicArn=self._topic_arn, PublishBatchRequestEntries=entries)
        except (ClientError, BotoCoreError) as error:
            why = f"the topic refused the batch: {_why(error)}"
            return {appointment.appointment_id: why for appointment in appointments}
        taken = {entry["Id"] for entry in answer.get("Successful", [])}
        failed = {
            entry["Id"]: f"{entry['Code']}: {entry.get('Message', '')}" for entry in answer.get("Failed", [])
        }
        return {
            appointment.appointment_id: failed.get(str(n), "the topic answered nothing for it")
            for n, appointment in enumerate(appointments)
            if str(n) not in taken
        }
