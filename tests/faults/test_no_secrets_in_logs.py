"""The audit, after every other test: no function log line on the engine, of any stage, holds a
database password or an API key: the kit's, each test stage's, and every key a test wrote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from bootstrap.stack.queries import function_logs
from tests.support.api_client import AppointmentsApi
from tests.support.deadlines import Deadlines
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.written_secrets import known_secrets, written

pytestmark = pytest.mark.after_every_flow

FUNCTIONS = tuple(function.output for function in names.FUNCTIONS)


def function_log_lines(logs: Any, group: str) -> list[str]:
    function = group.removeprefix(names.LOG_GROUP_PREFIX)
    return [event.message for event in function_logs(logs, function)]


def test_no_password_or_api_key_appears_in_any_function_log(
    stack: Stack,
    kit_config: KitConfig,
    deadlines: Deadlines,
    report: Callable[[str], None],
) -> None:
    api, insured = AppointmentsApi(stack.api_url, stack.api_key), random_insured_id("FLT")
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
    groups = [
        group["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=names.LOG_GROUP_PREFIX
        )
        for group in page["logGroups"]
    ]
    lines = {group: function_log_lines(logs, group) for group in groups}
    ours = {name: lines.get(names.log_group(stack.outputs[name]), []) for name in FUNCTIONS}

    secrets = known_secrets(stack.api_key)
    leaks = [
        (group, line) for group, found in lines.items() for line in found if any(s in line for s in secrets)
    ]
    report(
        f"read {sum(map(len, lines.values()))} log lines of {len(lines)} functions (every stage's), "
        f"for {len(secrets)} secrets ({len(written())} written by tests); lines with a secret: {len(leaks)}"
    )
    assert all(ours.values()), "every function of the kit's stack logged something"
    assert len(groups) > len(FUNCTIONS), "the test stages' functions are read too"
    assert created.body["appointmentId"] in "".join(ours[names.HTTP_FUNCTION_NAME])
    assert leaks == []
