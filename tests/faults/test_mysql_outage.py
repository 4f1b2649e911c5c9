"""MySQL refuses the country processor while appointments arrive: they wait in the queue (or, past
the receive limit, in the DLQ until `make redrive`) and reach `completed` once MySQL is back,
each stored exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pymysql

from bootstrap.config import KitConfig
from bootstrap.kit import Stack
from tests.e2e.api_client import AppointmentsApi
from tests.faults.conftest import (
    fresh_insured,
    fresh_schedule,
    holds,
    mysql_count,
    mysql_refusing,
    peek,
    statuses,
)
from tests.kit_cli import kit_command
from tests.polling import wait_for


def post(api: AppointmentsApi, insured: str, country: str, count: int) -> list[str]:
    base = fresh_schedule()
    replies = [
        api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": country})
        for n in range(count)
    ]
    assert [reply.status for reply in replies] == [202] * count
    return [reply.body["appointmentId"] for reply in replies]


def test_a_short_outage_is_retried_from_the_queue_and_nothing_is_lost_or_doubled(
    api: AppointmentsApi,
    sqs: Any,
    stack: Stack,
    mysql_admin: pymysql.connections.Connection,
    report: Callable[[str], None],
) -> None:
    insured, queue = fresh_insured(), stack.outputs["PeQueueUrl"]

    with mysql_refusing(mysql_admin, "PE"):
        ids = post(api, insured, "PE", 5)
        report("revoked INSERT from rimac_pe, posted 5 PE appointments")
        attempted = wait_for(
            lambda: (
                int(
                    sqs.get_queue_attributes(
                        QueueUrl=queue, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
                    )["Attributes"]["ApproximateNumberOfMessagesNotVisible"]
                )
                >= 5
            ),
            timeout=30,
            describe="the processor to fail on all 5 and leave them in the queue",
        )
        assert attempted
        during = statuses(api, insured)
        report(f"during the outage: {mysql_count(mysql_admin, 'PE', ids)} in MySQL, {list(during.values())}")
        assert mysql_count(mysql_admin, "PE", ids) == 0
        assert set(during.values()) == {"pending"}

    report("granted INSERT again")
    wait_for(
        lambda: set(statuses(api, insured).values()) == {"completed"},
        timeout=60,
        describe="all 5 completed after MySQL came back",
    )
    in_dlq = sum(holds(peek(sqs, stack.outputs["PeDeadLetterQueueUrl"]), i) for i in ids)
    stored = mysql_count(mysql_admin, "PE", ids)
    report(f"sent 5, completed {len(statuses(api, insured))}, in MySQL {stored}, in DLQ {in_dlq}")
    assert (stored, in_dlq) == (5, 0)


def test_a_long_outage_parks_messages_in_the_dlq_and_redrive_completes_them_once(
    api: AppointmentsApi,
    sqs: Any,
    stack: Stack,
    kit_config: KitConfig,
    mysql_admin: pymysql.connections.Connection,
    report: Callable[[str], None],
) -> None:
    insured, dlq = fresh_insured(), stack.outputs["ClDeadLetterQueueUrl"]

    with mysql_refusing(mysql_admin, "CL"):
        ids = post(api, insured, "CL", 3)
        report(
            f"revoked INSERT from rimac_cl, posted 3 CL appointments; waiting for {kit_config.max_receive_count} receives"
        )
        wait_for(
            lambda: all(holds(peek(sqs, dlq), i) for i in ids),
            timeout=kit_config.queue_visibility_timeout * (kit_config.max_receive_count + 3),
            interval=1,
            describe="all 3 in the CL dead-letter queue",
        )
        report(f"all 3 in the CL DLQ; in MySQL {mysql_count(mysql_admin, 'CL', ids)}")
        assert set(statuses(api, insured).values()) == {"pending"}

        timeline = kit_command(kit_config, "trace", ids[0])
        report("make trace on one of them: " + timeline.splitlines()[-1].strip())
        assert f"in the DLQ rimac-appointments-{kit_config.stage}-cl-dlq" in timeline
        assert "appointment failed, to be retried" in timeline

    redriven = kit_command(kit_config, "redrive", "cl")
    report(f"granted INSERT again, then: {redriven.strip()}")
    moved = int(redriven.split()[1])
    assert moved >= 3

    wait_for(
        lambda: set(statuses(api, insured).values()) == {"completed"},
        timeout=60,
        describe="all 3 completed after the redrive",
    )
    stored = mysql_count(mysql_admin, "CL", ids)
    left = sum(holds(peek(sqs, dlq), i) for i in ids)
    report(f"sent 3, completed {len(statuses(api, insured))}, in MySQL {stored}, in DLQ {left}")
    assert (stored, left) == (3, 0)
