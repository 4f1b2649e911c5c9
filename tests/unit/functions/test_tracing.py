"""X-Ray through powertools only when tracing is on; otherwise a stand-in that changes nothing."""

from __future__ import annotations

import pytest

from appointments.tracing import Untraced, handler_tracer


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_tracing_off_gives_the_stand_in_which_leaves_the_handler_as_it_is(value: str) -> None:
    tracer = handler_tracer({"POWERTOOLS_TRACE_DISABLED": value})

    def handler(event: dict[str, str], context: object) -> str:
        return "answer"

    assert isinstance(tracer, Untraced)
    assert tracer.capture_lambda_handler(handler) is handler
    assert tracer.put_annotation(key="appointment_id", value="01") is None


@pytest.mark.parametrize("environ", [{"POWERTOOLS_TRACE_DISABLED": "false"}, {}])
def test_tracing_on_gives_the_powertools_tracer(environ: dict[str, str]) -> None:
    from aws_lambda_powertools import Tracer

    assert isinstance(handler_tracer(environ), Tracer)
