"""POST /appointments: publish the body to the topic, answer 202. Payload format 1.0 and 2.0."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

TOPIC_ARN = os.environ["TOPIC_ARN"]
sns = boto3.client("sns")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    request = json.loads(body)
    appointment_id = uuid.uuid4().hex
    message = {
        "appointmentId": appointment_id,
        "insuredId": request["insuredId"],
        "scheduleId": request["scheduleId"],
        "countryISO": request["countryISO"],
        "createdAt": datetime.now(UTC).isoformat(),
    }
    sns.publish(
        TopicArn=TOPIC_ARN,
        Message=json.dumps(message),
        MessageAttributes={"countryISO": {"DataType": "String", "StringValue": request["countryISO"]}},
    )
    return {
        "statusCode": 202,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"appointmentId": appointment_id, "status": "pending"}),
    }
