"""Publishes new appointments to the SNS topic; subscriptions filter on the countryISO attribute."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from appointments.domain import Appointment, PublishFailed
from appointments.messages import AppointmentMessage
from appointments.ports import AppointmentRequestPublisher

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sns.type_defs import MessageAttributeValueTypeDef

COUNTRY_ATTRIBUTE = "countryISO"
CORRELATION_ATTRIBUTE = "correlationId"


class SnsAppointmentPublisher(AppointmentRequestPublisher):
    def __init__(self, topic_arn: str, client: SNSClient) -> None:
        self._topic_arn = topic_arn
        self._client = client

    def publish(self, appointment: Appointment) -> None:
        attributes: dict[str, MessageAttributeValueTypeDef] = {
            COUNTRY_ATTRIBUTE: {"DataType": "String", "StringValue": appointment.country.value}
        }
        if appointment.correlation_id:
            attributes[CORRELATION_ATTRIBUTE] = {
                "DataType": "String",
                "StringValue": appointment.correlation_id,
            }
        try:
            self._client.publish(
                TopicArn=self._topic_arn,
                Message=AppointmentMessage.from_domain(appointment).model_dump_json(),
                MessageAttributes=attributes,
            )
        except (ClientError, BotoCoreError) as error:
            raise PublishFailed(f"the topic did not take appointment {appointment.appointment_id}") from error
