"""`make trace` and `make status` on appointments that went through the public API."""

from __future__ import annotations

import json

import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from bootstrap.stack.queries import function_logs
from tests.support.api_client import AppointmentsApi
from tests.support.deadlines import Deadlines
from tests.support.kit_cli import kit_command
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.tally import wait_logged


def completed_appointment(
    stack: Stack, kit_config: KitConfig, deadlines: Deadlines, country: str
) -> tuple[str, str]:
    """POST one appointment on a free slot and wait until it is completed and every function of
    its flow has logged it; (insuredId, appointmentId)."""
    api = AppointmentsApi(stack.api_url, stack.api_key)
    insured = random_insured_id("OBS")
    reply = api.create({"insuredId": insured, "scheduleId": random_schedule_id(), "countryISO": country})
    appointment_id = reply.body["appointmentId"]
    wait_for(
        lambda: api.status_of(insured, appointment_id) == "completed",
        timeout=deadlines.flow,
        describe="completed",
    )
    hops = (names.HTTP_FUNCTION_NAME, names.processor_function_output(country), names.CALLBACK_FUNCTION_NAME)
    wait_logged(kit_config, stack.outputs, appointment_id, hops, timeout=deadlines.flow)
    return insured, appointment_id


@pytest.mark.parametrize("country", names.COUNTRIES)
def test_trace_shows_every_hop_of_a_completed_appointment_in_order(
    stack: Stack, kit_config: KitConfig, deadlines: Deadlines, country: str
) -> None:
    _insured, appointment_id = completed_appointment(stack, kit_config, deadlines, country)

    timeline = kit_command(kit_config, "trace", appointment_id)

    hops = [
        "HTTP: accepted",
        f"SNS: published with countryISO={country}",
        f"MySQL {names.schema(country)}.appointments: row stored",
        f"{stack.outputs[names.processor_function_output(country)]}: appointment processed (outcome=scheduled",
        "EventBridge: AppointmentScheduled",
        f"{stack.outputs[names.CALLBACK_FUNCTION_NAME]}: appointment settled (status=completed)",
        "final status: completed",
        "total",
    ]
    positions = [timeline.find(hop) for hop in hops]
    assert -1 not in positions, timeline
    accepted, published, stored, processed, announced, settled, final, total = positions
    # Each hop is placed at the moment it was recorded. The HTTP function logs the publish once
    # Publish has returned, and the engine delivers to the queue inside that call: the processor
    # can store the row a few milliseconds before that line. The processor logs after its commit,
    # which follows its own publish: the callback may log first.
    assert accepted < min(published, stored, processed, announced, settled), timeline
    assert max(published, stored, processed, announced, settled) < final < total, timeline
    assert f"[from {names.QUEUES[names.country_code(country)].queue_name(kit_config.stage)}]" in timeline


def test_status_lists_resources_queue_depths_and_appointments_per_status(
    stack: Stack, kit_config: KitConfig, deadlines: Deadlines
) -> None:
    completed_appointment(stack, kit_config, deadlines, "PE")  # its own, not one an earlier test left
    dynamodb = kit_config.client("dynamodb")
    # An item written by hand, without a status: counted on a row of its own, not a crash.
    hand_written = {"insuredId": {"S": "HANDWRITTEN1"}, "appointmentId": {"S": "no-status"}}
    dynamodb.put_item(TableName=stack.outputs[names.TABLE_NAME], Item=hand_written)
    try:
        report = kit_command(kit_config, "status")
    finally:
        dynamodb.delete_item(TableName=stack.outputs[names.TABLE_NAME], Key=hand_written)

    for name in ("HttpFunction", "PeQueue", "AppointmentsTable", "AppointmentSettledRule"):
        assert name in report
    for pair in names.QUEUES.values():
        assert f"{pair.queue_name(kit_config.stage)} " in report
    rows = report[report.index("appointments  count") :].splitlines()[2:]
    counts = {line.split()[0]: int(line.split()[1]) for line in rows}
    assert counts["all"] == sum(count for name, count in counts.items() if name != "all")
    assert counts["(no-status)"] >= 1
    assert counts["completed"] >= 1


def test_every_functions_log_lines_for_an_appointment_carry_its_correlation_id(
    stack: Stack, kit_config: KitConfig, deadlines: Deadlines
) -> None:
    insured, appointment_id = completed_appointment(stack, kit_config, deadlines, "PE")
    item = kit_config.client("dynamodb").get_item(
        TableName=stack.outputs[names.TABLE_NAME],
        Key={"insuredId": {"S": insured}, "appointmentId": {"S": appointment_id}},
    )["Item"]
    correlation_id = item["correlationId"]["S"]
    logs = kit_config.client("logs")

    carried = {}
    for key in (
        names.HTTP_FUNCTION_NAME,
        names.processor_function_output("PE"),
        names.CALLBACK_FUNCTION_NAME,
    ):
        events = function_logs(logs, stack.outputs[key], containing=appointment_id)
        lines = [event.fields for event in events if event.fields is not None]
        carried[key] = {
            line.get("correlation_id") for line in lines if line.get("appointment_id") == appointment_id
        }

    assert correlation_id
    assert carried == {key: {correlation_id} for key in carried}


def test_logs_show_the_appointments_hops_from_all_functions(
    stack: Stack, kit_config: KitConfig, deadlines: Deadlines
) -> None:
    _insured, appointment_id = completed_appointment(stack, kit_config, deadlines, "CL")
    # `make logs` names each function by what follows the stack's name
    http, callback, processor = (
        names.short_name(kit_config.stage, stack.outputs[key])
        for key in (
            names.HTTP_FUNCTION_NAME,
            names.CALLBACK_FUNCTION_NAME,
            names.processor_function_output("CL"),
        )
    )

    lines = [
        line
        for line in kit_command(kit_config, "logs", "--no-follow", "--since", "120").splitlines()
        if appointment_id in line
    ]

    functions = [line.split()[1] for line in lines]
    # No order among them: the HTTP function logs once SNS has answered, by when the processor may
    # have run, and the processor logs after its commit, which follows its publish.
    assert sorted(functions) == sorted([http, callback, processor]), lines
    raw = [
        json.loads(line)
        for line in kit_command(kit_config, "logs", "--no-follow", "--since", "120", "--json").splitlines()
        if appointment_id in line
    ]
    assert sorted(entry["message"] for entry in raw) == [
        "appointment accepted",
        "appointment processed",
        "appointment settled",
    ]
