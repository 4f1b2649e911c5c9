"""POST /appointments: check the three fields, store the item pending, publish it. Payload 1.0 and 2.0.

What it leaves out, next to ours: the API key check, the Idempotency-Key, the outbox (a publish
that fails after the write leaves the appointment pending for ever), the call budgets, the error
contract (a bad body is a bare 400), GET, structured logs.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3

from appointments.entrypoints.logs import logger

TABLE_NAME = os.environ["TABLE_NAME"]
TOPIC_ARN = os.environ["TOPIC_ARN"]
dynamodb = boto3.client("dynamodb")
sns = boto3.client("sns")


def answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    body = event.get("body") or "{}"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    try:
        request = json.loads(body)
        insured_id, schedule_id, country = request["insuredId"], request["scheduleId"], request["countryISO"]
    except (ValueError, KeyError, TypeError):
        return answer(400, {"message": "insuredId, scheduleId and countryISO are required"})
    if not (isinstance(insured_id, str) and insured_id.isalnum() and 0 < len(insured_id) <= 32):
        return answer(400, {"message": "insuredId must be 1 to 32 letters or digits"})
    if not (isinstance(schedule_id, int) and schedule_id > 0) or country not in ("PE", "CL"):
        return answer(400, {"message": "scheduleId must be a positive integer, countryISO PE or CL"})
    now = datetime.now(UTC).isoformat()
    appointment = {
        "appointmentId": uuid.uuid4().hex,
        "insuredId": insured_id,
        "scheduleId": schedule_id,
        "countryISO": country,
        "status": "pending",
        "createdAt": now,
        "updatedAt": now,
    }
    item = {
        name: {"N": str(value)} if name == "scheduleId" else {"S": value}
        for name, value in appointment.items()
    }
    dynamodb.put_item(TableName=TABLE_NAME, Item=item)
    sns.publish(
        TopicArn=TOPIC_ARN,
        Message=json.dumps(appointment),
        MessageAttributes={"countryISO": {"DataType": "String", "StringValue": country}},
    )
    logger.info("appointment %s accepted for %s", appointment["appointmentId"], country)
    return answer(202, appointment)
