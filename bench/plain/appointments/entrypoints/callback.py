"""The callback: set each appointment whose event arrived to completed.

What it leaves out, next to ours: the compare-and-set (a late or repeated event overwrites the
status), rejections, the outbox mark, the event contract, the call budgets, structured logs.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3

from appointments.entrypoints.logs import logger

TABLE_NAME = os.environ["TABLE_NAME"]
dynamodb = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    for record in event["Records"]:
        detail = json.loads(record["body"])["detail"]
        dynamodb.update_item(
            TableName=TABLE_NAME,
            Key={"insuredId": {"S": detail["insuredId"]}, "appointmentId": {"S": detail["appointmentId"]}},
            UpdateExpression="SET #status = :completed, updatedAt = :now",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":completed": {"S": "completed"},
                ":now": {"S": datetime.now(UTC).isoformat()},
            },
        )
        logger.info("appointment %s completed", detail["appointmentId"])
    return {"batchItemFailures": []}
