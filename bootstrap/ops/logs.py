"""`make logs`: every function's log lines merged in time order, one coloured line per event, or the raw JSON; with follow, kept polling."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from itertools import cycle

from bootstrap import names
from bootstrap.config import StackConfig
from bootstrap.stack.queries import (
    function_logs,
    stack_outputs,
)

# ANSI colours, one per function in the order of names.FUNCTIONS
FUNCTION_COLORS = dict(
    zip((f.output for f in names.FUNCTIONS), cycle(("36", "33", "35", "32", "34", "31")), strict=False)
)


SHOWN_KEYS = ("appointment_id", "outcome", "status", "country", "correlation_id", "exception_name")


def human_line(function: str, message: str, color: str | None) -> str:
    """One log event as a person reads it: time, function, level, message, the keys that matter."""
    try:
        line = json.loads(message)
    except ValueError:
        line = None
    if not isinstance(line, dict):  # START/END/REPORT lines and plain prints
        text = f"{function:<32} {message.strip()}"
    else:
        stamp = str(line.get("timestamp", ""))[11:23]
        keys = " ".join(f"{k}={line[k]}" for k in SHOWN_KEYS if k in line)
        text = f"{stamp} {function:<32} {line.get('level', ''):<7} {line.get('message', '')}  {keys}"
    return f"\033[{color}m{text}\033[0m" if color else text


def logs(config: StackConfig, raw_json: bool, follow: bool, since_seconds: int, colour: bool) -> None:
    """Print every function's logs merged in time order; with follow, keep polling."""
    outputs = stack_outputs(config)
    client = config.client("logs")
    start = int((datetime.now(UTC).timestamp() - since_seconds) * 1000)
    seen: set[str] = set()
    while True:
        batch = []
        for key, color in FUNCTION_COLORS.items():
            name = names.short_name(config.stage, outputs[key])
            # The engine gives no eventId: stream, time and text tell two events apart.
            batch += [
                (e.timestamp, f"{e.stream}/{e.timestamp}/{e.message}", name, e.message, color)
                for e in function_logs(client, outputs[key], start)
            ]
        for timestamp, event_id, name, message, color in sorted(batch):
            if event_id in seen:
                continue
            seen.add(event_id)
            start = max(start, timestamp)
            print(
                message.strip() if raw_json else human_line(name, message, color if colour else None),
                flush=True,
            )
        if not follow:
            return
        time.sleep(1)
