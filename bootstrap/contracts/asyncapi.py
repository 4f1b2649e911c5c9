"""The AsyncAPI document of the messages between the functions, generated from their models
(appointments/messages.py) and the resource names (names.py), as docs/openapi.json is from the
routes. docs/asyncapi.json is this output, checked by a unit test; `make asyncapi` rewrites it."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from appointments.adapters.sns import CORRELATION_ATTRIBUTE, COUNTRY_ATTRIBUTE
from appointments.domain import AppointmentStatus, Country
from appointments.messages import (
    DETAIL_TYPES,
    EVENT_SOURCE,
    MAJOR_VERSION,
    AppointmentMessage,
    SettledEvent,
)
from bootstrap import names

ASYNCAPI_VERSION = "3.0.0"
STAGE = "{stage}"  # the channel parameter every address holds
REQUESTED = "AppointmentRequested"


def _ref(path: str) -> dict[str, str]:
    return {"$ref": path}


def _queue_channel(queue: str, description: str, messages: list[str]) -> dict[str, Any]:
    return {
        "address": names.QUEUES[queue].queue_name(STAGE),
        "description": f"{description} Dead-letter queue: `{names.QUEUES[queue].dead_letter_queue_name(STAGE)}`.",
        "parameters": {"stage": _ref("#/components/parameters/stage")},
        "messages": {message: _ref(f"#/components/messages/{message}") for message in messages},
    }


OUTCOMES = {
    AppointmentStatus.COMPLETED: "The appointment is stored in its country's database",
    AppointmentStatus.REJECTED: "The slot was taken: the appointment is rejected, `detail.reason` says why",
}


def _settled_message(status: AppointmentStatus) -> dict[str, Any]:
    detail_type = DETAIL_TYPES[status]
    return {
        "name": detail_type,
        "title": detail_type,
        "summary": OUTCOMES[status],
        "contentType": "application/json",
        "payload": {
            "allOf": [
                _ref(f"#/components/schemas/{SettledEvent.__name__}"),
                {"properties": {"detail-type": {"const": detail_type}}},
            ]
        },
    }


def asyncapi_document() -> str:
    _, definitions = models_json_schema(
        [(AppointmentMessage, "validation"), (SettledEvent, "validation")],
        ref_template="#/components/schemas/{model}",
    )
    settled = list(DETAIL_TYPES.values())
    countries = [country.value for country in Country]
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Rimac appointments: messages between the functions",
            "version": f"{MAJOR_VERSION}.0.0",
            "description": (
                "The contracts between functions deployed one at a time. Every body carries "
                "`version` (MAJOR.MINOR; the settled events carry it in `detail`). Within a major "
                "version writers only add fields, readers accept fields they do not know (logged "
                "once per process) and refuse a major version they do not know: that record "
                "fails, is retried, then waits in its queue's dead-letter queue."
            ),
        },
        "defaultContentType": "application/json",
        "channels": {
            "appointmentsTopic": {
                "address": names.stack_name(STAGE),
                "description": (
                    f"SNS topic. The HTTP function publishes each new appointment (the reconciler "
                    f"those the topic refused at first), with the message attribute "
                    f"`{COUNTRY_ATTRIBUTE}`, which the subscriptions filter on."
                ),
                "parameters": {"stage": _ref("#/components/parameters/stage")},
                "messages": {REQUESTED: _ref(f"#/components/messages/{REQUESTED}")},
            },
            **{
                f"{names.country_code(country)}Queue": _queue_channel(
                    names.country_code(country),
                    f"SQS queue of {country.value}: the topic's raw delivery of the appointments whose "
                    f"`{COUNTRY_ATTRIBUTE}` is {country.value}, read by its country processor.",
                    [REQUESTED],
                )
                for country in Country
            },
            "eventBus": {
                "address": names.stack_name(STAGE),
                "description": (
                    f"EventBridge bus. The country processors put one event per appointment, source "
                    f"`{EVENT_SOURCE}`, the outcome in the detail-type."
                ),
                "parameters": {"stage": _ref("#/components/parameters/stage")},
                "messages": {name: _ref(f"#/components/messages/{name}") for name in settled},
            },
            "callbackQueue": _queue_channel(
                names.CALLBACK_QUEUE,
                "SQS queue: the bus's rule delivers both events here (the whole EventBridge event), "
                "read by the callback function.",
                settled,
            ),
        },
        "operations": {
            "publishAppointment": {
                "action": "send",
                "channel": _ref("#/channels/appointmentsTopic"),
                "summary": "The HTTP function and the reconciler hand a new appointment to its country",
            },
            **{
                f"process{names.country_code(country).capitalize()}Appointment": {
                    "action": "receive",
                    "channel": _ref(f"#/channels/{names.country_code(country)}Queue"),
                    "summary": f"The {country.value} processor stores the appointment, or its rejection",
                }
                for country in Country
            },
            "announceOutcome": {
                "action": "send",
                "channel": _ref("#/channels/eventBus"),
                "summary": "A country processor announces what it did with the appointment",
            },
            "settleAppointment": {
                "action": "receive",
                "channel": _ref("#/channels/callbackQueue"),
                "summary": "The callback function sets the appointment completed or rejected",
            },
        },
        "components": {
            "parameters": {
                "stage": {
                    "description": "The stack's stage (`STAGE`, `local` for `make up`)",
                    "examples": ["local"],
                }
            },
            "messages": {
                REQUESTED: {
                    "name": REQUESTED,
                    "title": REQUESTED,
                    "summary": "A new appointment, pending, for its country's processor",
                    "contentType": "application/json",
                    "headers": {
                        "type": "object",
                        "description": "SNS message attributes (String), delivered with the raw message",
                        "properties": {
                            COUNTRY_ATTRIBUTE: {"type": "string", "enum": countries},
                            CORRELATION_ATTRIBUTE: {"type": "string"},
                        },
                        "required": [COUNTRY_ATTRIBUTE],
                    },
                    "payload": _ref(f"#/components/schemas/{AppointmentMessage.__name__}"),
                },
                **{DETAIL_TYPES[status]: _settled_message(status) for status in DETAIL_TYPES},
            },
            "schemas": definitions["$defs"],
        },
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
