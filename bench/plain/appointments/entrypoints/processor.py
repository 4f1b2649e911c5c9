"""The country processor: insert each record into the country's schema, then put its event.

What it leaves out, next to ours: the slot rule (a taken slot is an error, not a rejection), the
commit-then-announce order kept on a redelivery (a repeated message fails on the primary key and
ends in the DLQ), the message contract's versions, the refreshed settings, the call budgets,
structured logs. The connection's settings are read from SSM once per worker.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pymysql

from appointments.entrypoints.logs import logger

EVENT_BUS_NAME = os.environ["EVENT_BUS_NAME"]
COUNTRY_ISO = os.environ["COUNTRY_ISO"]
# The plain chain's own table in the country's schema (bench/plain.py creates it)
TABLE = "appointments_benchplain"
events = boto3.client("events")
ssm = boto3.client("ssm")
_connection: Any = None  # one per worker, opened by the first batch


def connection() -> Any:
    global _connection
    if _connection is None:
        found = ssm.get_parameters_by_path(Path=os.environ["DB_PARAMETERS_PATH"], WithDecryption=True)
        settings = {p["Name"].rsplit("/", 1)[-1]: p["Value"] for p in found["Parameters"]}
        _connection = pymysql.connect(
            host=settings["host"],
            port=int(settings["port"]),
            user=settings["user"],
            password=settings["password"],
            database=settings["name"],
            autocommit=True,
            connect_timeout=4,
        )
    _connection.ping(reconnect=True)
    return _connection


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event["Records"]:
        try:
            appointment = json.loads(record["body"])
            with connection().cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {TABLE} (appointment_id, insured_id, schedule_id, country_iso) "  # noqa: S608
                    "VALUES (%s, %s, %s, %s)",
                    (
                        appointment["appointmentId"],
                        appointment["insuredId"],
                        appointment["scheduleId"],
                        COUNTRY_ISO,
                    ),
                )
            events.put_events(
                Entries=[
                    {
                        "EventBusName": EVENT_BUS_NAME,
                        "Source": "rimac.appointments",
                        "DetailType": "AppointmentScheduled",
                        "Detail": json.dumps(appointment),
                    }
                ]
            )
            logger.info("appointment %s scheduled in %s", appointment["appointmentId"], COUNTRY_ISO)
        except Exception:
            logger.exception("appointment record %s failed", record["messageId"])
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
