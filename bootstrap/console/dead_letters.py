"""The messages waiting in each dead-letter queue, each with the appointment it carries and the last error its function logged for it."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from bootstrap import names
from bootstrap.console.clients import SharedClients
from bootstrap.stack.queries import (
    function_logs,
    queue_depth,
    waiting_messages,
)

DEAD_LETTER_ROUNDS = 5  # a DLQ page shows at most 50 messages (ten a receive)


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    appointment_id: str
    receives: str
    age_seconds: float
    error: str


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str
    queue: str
    dead_letter_queue: str
    letters: list[DeadLetter]
    bounded: bool  # more may wait than the page read


def _appointment_of(body: str) -> str:
    """The appointment id a message carries: in its body (SNS's raw message) or its detail
    (EventBridge's event)."""
    try:
        message = json.loads(body)
    except ValueError:
        return ""
    if not isinstance(message, dict):
        return ""
    detail = message.get("detail")
    found = message.get("appointmentId") or (
        detail.get("appointmentId") if isinstance(detail, dict) else None
    )
    return str(found or "")


def consumer_of(pair: names.QueuePair) -> str:
    """The output naming the function that reads the queue."""
    if pair.name == names.CALLBACK_QUEUE:
        return names.CALLBACK_FUNCTION_NAME
    return names.processor_function_output(pair.name)


def errors_logged(config: SharedClients, function: str, since_ms: int) -> dict[str, str]:
    """Appointment id -> the last error the function logged for it since then."""
    errors: dict[str, str] = {}
    for event in function_logs(config.client("logs"), function, since_ms, containing="exception_name"):
        line = event.fields
        if line is not None and line.get("appointment_id"):
            name = str(line.get("exception_name", ""))
            lines = str(line.get("exception", "")).strip().splitlines()
            # a traceback's last line: `module.Name: what it says`
            said = lines[-1].split(": ", 1)[-1] if lines else ""
            errors[str(line["appointment_id"])] = f"{name}: {said}"
    return errors


def dead_letters(config: SharedClients, outputs: dict[str, str]) -> list[DeadLetterQueue]:
    sqs = config.client("sqs")
    found = []
    now = time.time()
    for pair in names.QUEUES.values():
        url = outputs[pair.dead_letter_output]
        depth = queue_depth(sqs, url)
        messages = waiting_messages(sqs, url, rounds=DEAD_LETTER_ROUNDS) if depth.total else []
        oldest = min((int(m["Attributes"].get("SentTimestamp", now * 1000)) for m in messages), default=0)
        errors = errors_logged(config, outputs[consumer_of(pair)], oldest - 60_000) if messages else {}
        letters = []
        for message in sorted(messages, key=lambda m: int(m["Attributes"].get("SentTimestamp", 0))):
            appointment_id = _appointment_of(message["Body"])
            letters.append(
                DeadLetter(
                    message["MessageId"],
                    appointment_id,
                    str(message["Attributes"].get("ApproximateReceiveCount", "")),
                    now - int(message["Attributes"].get("SentTimestamp", now * 1000)) / 1000,
                    errors.get(appointment_id, "no error logged for it in the last runs"),
                )
            )
        found.append(
            DeadLetterQueue(
                pair.name,
                outputs[pair.queue_output].rsplit("/", 1)[-1],
                url.rsplit("/", 1)[-1],
                letters,
                bounded=depth.total > len(letters),
            )
        )
    return found
