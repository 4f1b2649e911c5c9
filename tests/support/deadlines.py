"""How long the e2e and fault tests wait for the flow, per engine, from one place.

LocalStack's numbers are estimates: its SQS event-source-mapping poller backs off after empty
polls, and each function's first invocation starts a container. Waits that follow from the queue
settings (visibility timeout x receives) are derived from those settings instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deadlines:
    flow: float  # one appointment from the POST to completed, and its log lines told
    burst: float  # twenty posted at once on a cold stack, all settled


ENGINE_DEADLINES = {
    "ministack": Deadlines(flow=30.0, burst=60.0),
    "localstack": Deadlines(flow=90.0, burst=240.0),
}


def deadlines_for(engine: str) -> Deadlines:
    return ENGINE_DEADLINES[engine]
