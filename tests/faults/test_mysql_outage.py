"""MySQL refuses the country processor while appointments arrive: they wait in the queue (or, past
the receive limit, in the DLQ until `make redrive`) and reach `completed` once MySQL is back,
each stored exactly once."""

from __future__ import annotations

from collections import Counter

import pytest

from bootstrap import names
from bootstrap.stack.queries import peek
from tests.support.api_client import AppointmentsApi
from tests.support.counts import stored_rows
from tests.support.faults import FaultRig, holds
from tests.support.kit_cli import kit_command
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.tally import (
    Tally,
    flush_late_lines,
    mysql_rows,
    now_ms,
    table_of,
    tally,
    wait_all_told,
    wait_nudging,
)

# Each test on a stage of its own: its processors' users lose INSERT; retries every 8 s.


def post(api: AppointmentsApi, insured: str, country: str, count: int) -> list[str]:
    base = random_schedule_id()
    replies = [
        api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": country})
        for n in range(count)
    ]
    assert [reply.status for reply in replies] == [202] * count
    return [reply.body["appointmentId"] for reply in replies]


@pytest.mark.stage("t-outage-short")  # 5 receives: the outage ends long before the DLQ
@pytest.mark.xdist_group("t-outage-short")
def test_a_short_outage_is_retried_from_the_queue_and_nothing_is_lost_or_doubled(
    rig: FaultRig,
) -> None:
    insured, started_ms = random_insured_id("FLT"), now_ms()

    with rig.refusing("PE"):
        ids = post(rig.api, insured, "PE", 5)
        rig.report(f"revoked INSERT from {rig.user('PE')}, posted 5 PE appointments")

        def each_failed() -> Tally | None:
            found = tally(rig.kit_config, rig.stack.outputs, started_ms, ids)
            return found if all(found.failures[i] for i in ids) else None

        # What the processor logged for each of the 5: a failed attempt (it then stays in the queue).
        failed = wait_nudging(
            each_failed,
            lambda: flush_late_lines(
                rig.kit_config, rig.stack.outputs, [names.processor_function_output("PE")]
            ),
            timeout=rig.deadlines.flow,
            describe="the processor to fail on all 5",
        )
        during = rig.api.statuses(insured)
        rig.report(
            f"during the outage: {stored_rows(rig.mysql_admin, 'PE', ids)} in MySQL, {list(during.values())}, "
            f"failed attempts (receive counts) {list(failed.failures.values())}"
        )
        assert failed.outcomes == {i: [] for i in ids}  # none was stored while MySQL refused
        assert stored_rows(rig.mysql_admin, "PE", ids) == 0
        assert set(during.values()) == {"pending"}

    rig.report("granted INSERT again")
    wait_for(
        lambda: set(rig.api.statuses(insured).values()) == {"completed"},
        timeout=rig.deadlines.burst,
        describe="all 5 completed after MySQL came back",
    )
    dead_letters = peek(rig.sqs, rig.stack.outputs[names.dead_letter_queue_output("PE")])
    in_dlq = sum(holds(dead_letters, i) for i in ids)
    stored = stored_rows(rig.mysql_admin, "PE", ids)
    told = wait_all_told(rig.kit_config, rig.stack.outputs, started_ms, ids, timeout=rig.deadlines.flow)
    rows = mysql_rows(rig.mysql_admin, insured)
    rig.report(
        f"sent 5, listed {len(rig.api.statuses(insured))}, in MySQL {stored} ({sum(rows.values())} rows of the "
        f"insured), in DLQ {in_dlq}; {told.summary()}"
    )
    assert (stored, in_dlq) == (5, 0)
    assert len(rig.api.statuses(insured)) == 5
    assert rows == Counter({(table_of("PE"), i): 1 for i in ids})
    assert any(told.failures.values())  # the outage was seen: some delivery failed and came back
    assert told.outcomes == {i: ["scheduled"] for i in ids}
    assert told.callbacks == {i: ["appointment settled"] for i in ids}


@pytest.mark.stage("t-outage-long")  # 2 receives: the DLQ within 16 s
@pytest.mark.xdist_group("t-outage-long")
def test_a_long_outage_parks_messages_in_the_dlq_and_redrive_completes_them_once(
    rig: FaultRig,
) -> None:
    insured, started_ms = random_insured_id("FLT"), now_ms()
    queues = names.QUEUES[names.country_code("CL")]
    dlq = rig.stack.outputs[queues.dead_letter_output]

    with rig.refusing("CL"):
        ids = post(rig.api, insured, "CL", 3)
        rig.report(
            f"revoked INSERT from {rig.user('CL')}, posted 3 CL appointments; "
            f"waiting for {rig.kit_config.max_receive_count} receives"
        )

        def all_dead_lettered() -> bool:
            dead_letters = peek(rig.sqs, dlq)
            return all(holds(dead_letters, i) for i in ids)

        wait_for(
            all_dead_lettered,
            timeout=rig.kit_config.queue_visibility_timeout * (rig.kit_config.max_receive_count + 3),
            interval=1,
            describe="all 3 in the CL dead-letter queue",
        )
        rig.report(f"all 3 in the CL DLQ; in MySQL {stored_rows(rig.mysql_admin, 'CL', ids)}")
        assert set(rig.api.statuses(insured).values()) == {"pending"}

        timeline = kit_command(rig.kit_config, "trace", ids[0])
        rig.report("make trace on one of them: " + timeline.splitlines()[-1].strip())
        assert f"in the DLQ {queues.dead_letter_queue_name(rig.kit_config.stage)}" in timeline
        assert "appointment failed, to be retried" in timeline

    redriven = kit_command(rig.kit_config, "redrive", queues.name)
    rig.report(f"granted INSERT again, then: {redriven.strip()}")
    moved = int(redriven.split()[1])
    assert moved >= 3

    wait_for(
        lambda: set(rig.api.statuses(insured).values()) == {"completed"},
        timeout=rig.deadlines.burst,
        describe="all 3 completed after the redrive",
    )
    stored = stored_rows(rig.mysql_admin, "CL", ids)
    dead_letters = peek(rig.sqs, dlq)
    left = sum(holds(dead_letters, i) for i in ids)
    told = wait_all_told(rig.kit_config, rig.stack.outputs, started_ms, ids, timeout=rig.deadlines.flow)
    rows = mysql_rows(rig.mysql_admin, insured)
    rig.report(
        f"sent 3, listed {len(rig.api.statuses(insured))}, in MySQL {stored} ({sum(rows.values())} rows of the "
        f"insured), in DLQ {left}; failed receives {told.failures}; {told.summary()}"
    )
    assert (stored, left) == (3, 0)
    assert len(rig.api.statuses(insured)) == 3
    assert rows == Counter({(table_of("CL"), i): 1 for i in ids})
    # each receive failed once, in whatever order the engine listed the lines
    assert {i: sorted(found) for i, found in told.failures.items()} == {
        i: list(range(1, rig.kit_config.max_receive_count + 1)) for i in ids
    }
    assert told.outcomes == {i: ["scheduled"] for i in ids}
    assert told.callbacks == {i: ["appointment settled"] for i in ids}
