"""`make redrive`: move messages from each dead-letter queue back to its source queue.

Use it once the cause is fixed (MySQL back, a bug deployed away): the appointments then go
through the flow again, and idempotent writes make a second pass harmless. Each message is sent
to the source queue before it is deleted from the DLQ, so a failure midway loses nothing.
"""

from __future__ import annotations

from typing import Any

from bootstrap import names
from bootstrap.config import KitError, StackConfig
from bootstrap.stack.queries import queue_depth, stack_outputs


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for name, value in message.get("MessageAttributes", {}).items():
        field = "StringValue" if "StringValue" in value else "BinaryValue"
        kept[name] = {"DataType": value["DataType"], field: value[field]}
    return kept


def _move(sqs: Any, dead_letter_url: str, source_url: str) -> int:
    waiting = queue_depth(sqs, dead_letter_url).waiting
    moved = 0
    while moved < waiting:  # bounded: messages that fail again come back later, not in this pass
        messages = sqs.receive_message(
            QueueUrl=dead_letter_url,
            MaxNumberOfMessages=min(10, waiting - moved),
            MessageAttributeNames=["All"],
            VisibilityTimeout=60,
        ).get("Messages", [])
        if not messages:
            break
        sent = sqs.send_message_batch(
            QueueUrl=source_url,
            Entries=[
                {"Id": str(i), "MessageBody": m["Body"], "MessageAttributes": _attributes(m)}
                for i, m in enumerate(messages)
            ],
        )
        if sent.get("Failed"):
            raise KitError(f"could not send back to {source_url}: {sent['Failed'][0].get('Message')}")
        sqs.delete_message_batch(
            QueueUrl=dead_letter_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        moved += len(messages)
    return moved


def redrive(config: StackConfig, queues: tuple[str, ...] = tuple(names.QUEUES)) -> dict[str, int]:
    """Returns how many messages each queue (pe, cl, callback) got back."""
    outputs = stack_outputs(config)
    sqs = config.client("sqs")
    return {
        name: _move(
            sqs, outputs[names.QUEUES[name].dead_letter_output], outputs[names.QUEUES[name].queue_output]
        )
        for name in queues
    }
