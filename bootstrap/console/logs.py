"""The functions' structured log lines for the console's live tail, filtered by correlation id or level."""

from __future__ import annotations

from dataclasses import dataclass

from bootstrap import names
from bootstrap.console.clients import SharedClients
from bootstrap.ops import logs
from bootstrap.stack.queries import (
    function_logs,
)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class LogLine:
    at_ms: int
    function: str
    level: str
    message: str
    keys: str
    correlation_id: str


def log_lines(
    config: SharedClients,
    outputs: dict[str, str],
    since_ms: int,
    correlation_id: str = "",
    level: str = "",
    limit: int = 200,
) -> list[LogLine]:
    """The functions' JSON lines since then, oldest first (the newest `limit`), filtered."""
    client = config.client("logs")
    lines = []
    for function in names.FUNCTIONS:
        name = outputs[function.output]
        short = names.short_name(config.stage, name)
        for event in function_logs(client, name, since_ms, containing=correlation_id or None):
            line = event.fields
            if line is None:
                continue
            if level and line.get("level") != level:
                continue
            if correlation_id and line.get("correlation_id") != correlation_id:
                continue
            keys = " ".join(f"{k}={line[k]}" for k in logs.SHOWN_KEYS if k in line and k != "correlation_id")
            lines.append(
                LogLine(
                    event.timestamp,
                    short,
                    str(line.get("level", "")),
                    str(line.get("message", "")),
                    keys,
                    str(line.get("correlation_id", "")),
                )
            )
    lines.sort(key=lambda line: line.at_ms)
    return lines[-limit:]
