"""`make redrive`: move messages from each dead-letter queue back to its source queue.

Use it once the cause is fixed (MySQL back, a bug deployed away): the appointments then go
through the flow again, and idempotent writes make a second pass harmless. Each message is sent
to the source queue before it is deleted from the DLQ, so a failure midway loses nothing.
"""

from __future__ import annotations

from typing import Any

from bootstrap import names
from bootstrap.config import KitError, StackConfig
from bootstrap.stack.queries import SCAN_ROUNDS, queue_depth, stack_outputs


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    kept = {}
    for name, value in message.get("MessageAttributes", {}).items():
        field = "StringValue" if "StringValue" in value else "BinaryValue"
        kept[name] = {"DataType": value["DataType"], field: value[field]}
    return kept


def _send_back(sqs: Any, dead_letter_url: str, source_url: str, messages: list[dict[str, Any]]) -> None:
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
        _send_back(sqs, dead_letter_url, source_url, messages)
        moved += len(messages)
    return moved


def _move_one(sqs: Any, dead_letter_url: str, source_url: str, message_id: str) -> bool:
    """The message of that id sent back; the others read on the way shown again at once."""
    passed: list[dict[str, Any]] = []
    try:
        for _ in range(SCAN_ROUNDS):
            messages = sqs.receive_message(
                QueueUrl=dead_letter_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not messages:
                return False
            wanted = [m for m in messages if m["MessageId"] == message_id]
            passed += [m for m in messages if m["MessageId"] != message_id]
            if wanted:
                _send_back(sqs, dead_letter_url, source_url, wanted)
                return True
        return False
    finally:
        for start in range(0, len(passed), 10):
            sqs.change_message_visibility_batch(
                QueueUrl=dead_letter_url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for n, m in enumerate(passed[start : start + 10])
                ],
            )


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


def redrive_message(config: StackConfig, queue: str, message_id: str) -> bool:
    """One message of the queue's DLQ (pe, cl, callback) sent back to it; False when it is not
    there (any more)."""
    outputs = stack_outputs(config)
    pair = names.QUEUES[queue]
    return _move_one(
        config.client("sqs"), outputs[pair.dead_letter_output], outputs[pair.queue_output], message_id
    )
