"""`make logs` turns each JSON log line into one line a person reads."""

from __future__ import annotations

import json

from bootstrap.ops.logs import human_line


def test_a_json_line_shows_time_function_level_message_and_the_keys_that_matter() -> None:
    message = json.dumps(
        {
            "level": "INFO",
            "message": "appointment processed",
            "timestamp": "2026-11-27 23:57:55,280+0000",
            "appointment_id": "01ABC",
            "outcome": "scheduled",
            "correlation_id": "req-1",
            "xray_trace_id": "ignored",
        }
    )

    line = human_line("processor-pe", message, color=None)

    assert line.startswith("23:57:55,280 processor-pe")
    assert "INFO" in line
    assert "appointment processed  appointment_id=01ABC outcome=scheduled correlation_id=req-1" in line
    assert "xray" not in line


def test_runtime_lines_pass_through_and_colour_wraps_the_line() -> None:
    line = human_line("http", "END RequestId: 1\n", color="36")

    assert line == "\033[36mhttp" + " " * 29 + "END RequestId: 1\033[0m"
