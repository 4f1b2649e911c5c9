"""The callback's place: mark each appointment completed, writing the whole item at once."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3

TABLE_NAME = os.environ["TABLE_NAME"]
dynamodb = boto3.client("dynamodb")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    for record in event["Records"]:
        detail = json.loads(record["body"])["detail"]
        dynamodb.put_item(
            TableName=TABLE_NAME,
            Item={
                "insuredId": {"S": detail["insuredId"]},
                "appointmentId": {"S": detail["appointmentId"]},
                "status": {"S": "completed"},
                "updatedAt": {"S": datetime.now(UTC).isoformat()},
            },
        )
    return {"batchItemFailures": []}
