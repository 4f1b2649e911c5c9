"""After the flows and faults above, no function log line holds a database password or the API key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bootstrap import names
from bootstrap.config import LOCAL_COUNTRY_DATABASES, KitConfig
from bootstrap.kit import Stack
from bootstrap.stack_queries import events_since
from tests.support.api_client import AppointmentsApi
from tests.support.deadlines import Deadlines
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id

pytestmark = pytest.mark.after_every_flow

FUNCTIONS = tuple(function.output for function in names.FUNCTIONS)


def function_log_lines(logs: Any, group: str) -> list[str]:
    return [event["message"] for event in events_since(logs, group, start=0)]


def test_no_password_or_api_key_appears_in_any_function_log(
    api: AppointmentsApi,
    stack: Stack,
    kit_config: KitConfig,
    deadlines: Deadlines,
    report: Callable[[str], None],
) -> None:
    insured = random_insured_id("FLT")
    created = api.create({"insuredId": insured, "scheduleId": random_schedule_id(), "countryISO": "PE"})
    api.with_key("wrong-" + stack.api_key).list(insured)  # a refused key must not be echoed either
    wait_for(
        lambda: set(api.statuses(insured).values()) == {"completed"},
        timeout=deadlines.flow,
        describe="a full flow",
    )
    # The reconciler runs on its schedule; one run now, as the schedule runs it, so that on a
    # stack started moments ago it has a log to read too.
    kit_config.client("lambda").invoke(
        FunctionName=stack.outputs[names.RECONCILER_FUNCTION_NAME], Payload=b"{}"
    )
    logs = kit_config.client("logs")

    lines = {name: function_log_lines(logs, f"/aws/lambda/{stack.outputs[name]}") for name in FUNCTIONS}

    secrets = [database.password for database in LOCAL_COUNTRY_DATABASES] + [stack.api_key]
    leaks = [
        (name, line) for name, found in lines.items() for line in found if any(s in line for s in secrets)
    ]
    report(
        f"read {sum(map(len, lines.values()))} log lines of {len(lines)} functions; "
        f"lines with a secret: {len(leaks)}"
    )
    assert all(lines.values()), "every function logged something"
    assert created.body["appointmentId"] in "".join(lines[names.HTTP_FUNCTION_NAME])
    assert leaks == []
