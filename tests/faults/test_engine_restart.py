"""The Docker-free engine restarted while appointments are in flight: with persistence on (the
default) it saves its state when it stops and loads it when `make up` starts it again."""

from __future__ import annotations

from collections.abc import Callable

import pymysql
import pytest

from bootstrap import engine, kit
from bootstrap.config import KitConfig
from bootstrap.kit import Stack
from tests.support.api_client import AppointmentsApi
from tests.support.counts import stored_rows
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id


def test_no_accepted_appointment_is_lost_when_the_engine_restarts_mid_flow(
    api: AppointmentsApi,
    stack: Stack,
    kit_config: KitConfig,
    mysql_admin: pymysql.connections.Connection,
    report: Callable[[str], None],
) -> None:
    if kit_config.engine != "ministack":
        pytest.skip("restarts the Docker-free engine; LocalStack's free plan keeps no state")
    if not kit_config.persist:
        pytest.skip("PERSIST=0: the engine keeps nothing across a restart by request")
    insured, base = random_insured_id("FLT"), random_schedule_id()
    accepted = [
        api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": "PE" if n % 2 else "CL"})
        for n in range(10)
    ]
    assert [reply.status for reply in accepted] == [202] * 10
    ids = {reply.body["appointmentId"]: reply.body["countryISO"] for reply in accepted}

    stopped = engine.stop()
    assert stopped is not None, "the engine was not started by the kit, so it cannot be restarted here"
    report(f"posted 10, stopped the engine (pid {stopped}) right away")
    again = kit.up(kit_config, kit.Progress(quiet=True))
    report(f"make up again: engine started={again.engine_started}, same API={again.api_url == stack.api_url}")

    wait_for(
        lambda: len(api.statuses(insured)) == 10 and set(api.statuses(insured).values()) == {"completed"},
        timeout=60,
        describe="all 10 accepted appointments completed after the restart",
    )

    def stored() -> int:
        return sum(
            stored_rows(mysql_admin, country, [i for i, c in ids.items() if c == country])
            for country in ("PE", "CL")
        )

    report(f"when all 10 read completed, MySQL held {stored()}")
    # A processor stopped between its publish and its commit leaves the event out and the row
    # rolled back: its message comes back after the visibility timeout and the row is written then.
    wait_for(
        lambda: stored() == 10,
        timeout=kit_config.queue_visibility_timeout * (kit_config.max_receive_count + 1),
        interval=0.5,
        describe="all 10 rows in MySQL",
    )
    report(f"sent 10, completed {len(api.statuses(insured))}, in MySQL {stored()}")
    assert stored() == 10
