"""`make status`: the stack's resources, the depth of each queue and its DLQ, and the appointments per status."""

from __future__ import annotations

from appointments.domain import AppointmentStatus
from bootstrap import names
from bootstrap.config import StackConfig
from bootstrap.stack.queries import (
    queue_depth,
    stack_outputs,
    status_counts,
)


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join(
        [line.format(*headers), line.format(*("-" * w for w in widths))] + [line.format(*r) for r in rows]
    )


STATUSES = tuple(status.value for status in AppointmentStatus)


def status(config: StackConfig) -> str:
    outputs = stack_outputs(config)
    cfn, sqs = config.client("cloudformation"), config.client("sqs")
    resources = cfn.describe_stack_resources(StackName=config.stack_name)["StackResources"]
    parts = [
        f"Stack {config.stack_name} on {config.where}: {len(resources)} resources",
        table(
            ["resource", "type", "status"],
            [
                [r["LogicalResourceId"], r["ResourceType"], r["ResourceStatus"]]
                for r in sorted(resources, key=lambda r: r["LogicalResourceId"])
            ],
        ),
        "",
        table(
            ["queue", "waiting", "in flight", "DLQ waiting"],
            [
                [
                    outputs[pair.queue_output].rsplit("/", 1)[-1],
                    *map(str, queue_depth(sqs, outputs[pair.queue_output])),
                    str(queue_depth(sqs, outputs[pair.dead_letter_output]).waiting),
                ]
                for pair in names.QUEUES.values()
            ],
        ),
        "",
    ]
    counts = status_counts(config, outputs[names.TABLE_NAME])
    parts.append(
        table(
            ["appointments", "count"],
            [[name, str(counts.get(name, 0))] for name in STATUSES]
            + [[name, str(count)] for name, count in sorted(counts.items()) if name not in STATUSES]
            + [["all", str(sum(counts.values()))]],
        )
    )
    return "\n".join(parts)
