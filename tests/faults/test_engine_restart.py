"""The Docker-free engine restarted while appointments are in flight: with persistence on (the
default) it saves its state when it stops and loads it when it starts again. The engine stopped is
the test's own (another port, its own state folder: tests/support/own_engine.py), so no other
test loses its engine."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from bootstrap import names
from bootstrap.config import LOCAL_API_KEY, STATE_DIR, KitConfig
from bootstrap.engines import ministack
from bootstrap.stack.queries import queue_depth, stack_outputs
from tests.support.counts import stored_rows
from tests.support.faults import FaultRig
from tests.support.polling import wait_for
from tests.support.random_refs import random_insured_id, random_schedule_id
from tests.support.stages import UNDER_LOAD, OwnStage, on_stage, own_engine
from tests.support.tally import STORED_BEFORE, mysql_rows, now_ms, table_of, tally, wait_all_told

POSTED, CLIENTS = 40, 8
pytestmark = on_stage("t-restart", group=UNDER_LOAD)


@pytest.fixture(scope="module", autouse=True)
def own_engine_stopped_after(kit_config: KitConfig) -> Iterator[None]:
    """The engine is this module's alone: stopped once its tests are done, early in the session,
    so its pollers stop taking the cores and the session's end does not wait for it to save its
    state (the session still stops it, if it was started after this)."""
    yield
    if kit_config.engine == "ministack":
        ministack.stop(own_engine(kit_config))


def test_no_accepted_appointment_is_lost_when_the_engine_restarts_mid_flow(
    rig: FaultRig,
) -> None:
    if rig.kit_config.engine != "ministack":
        pytest.skip("restarts the Docker-free engine; LocalStack's free plan keeps no state")
    if not rig.kit_config.persist:
        pytest.skip("PERSIST=0: the engine keeps nothing across a restart by request")
    insured, base, started_ms = random_insured_id("FLT"), random_schedule_id(), now_ms()
    bodies = [
        {"insuredId": insured, "scheduleId": base + n, "countryISO": names.country_in_turn(n)}
        for n in range(POSTED)
    ]
    # The PE processors cannot write while the appointments arrive and the engine stops, so those
    # are certainly on their way (in their queue, between receives) at the stop; the CL ones flow
    # as fast as the chain goes, so some may be anywhere in it. INSERT comes back after the restart,
    # within the receive limit.
    with rig.refusing(names.COUNTRIES[0]):
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            accepted = list(pool.map(rig.api.create, bodies))
        assert [reply.status for reply in accepted] == [202] * POSTED
        ids = {reply.body["appointmentId"]: reply.body["countryISO"] for reply in accepted}

        pending = list(rig.api.statuses(insured).values()).count("pending")
        queued = {
            name: tuple(queue_depth(rig.sqs, rig.stack.outputs[pair.queue_output]))
            for name, pair in names.QUEUES.items()
        }
        stopped = ministack.stop(rig.kit_config)
        stopped_ms = int(time.time() * 1000)
        try:
            assert stopped is not None, (
                "the engine was not started by the kit, so it cannot be restarted here"
            )
            rig.report(
                f"posted {POSTED} with {CLIENTS} clients; read just before the stop: {pending} of them pending in "
                f"DynamoDB, queues (waiting, in flight) {queued}; "
                f"stopped the engine (pid {stopped})"
            )
            assert pending > 0, "nothing was in flight when the engine stopped: the restart proved nothing"
        finally:
            # Whatever the checks above found, the engine comes back, with what it saved.
            again = ministack.start(rig.kit_config)
            outputs_again = stack_outputs(rig.kit_config)
    rig.report(
        f"started again: engine started={again.started}, same API={outputs_again == rig.stack.outputs}"
    )
    assert outputs_again == rig.stack.outputs

    wait_for(
        lambda: (
            len(rig.api.statuses(insured)) >= POSTED
            and set(rig.api.statuses(insured).values()) == {"completed"}
        ),
        timeout=rig.deadlines.burst,
        describe=f"all {POSTED} accepted appointments completed after the restart",
    )

    def stored() -> int:
        return sum(
            stored_rows(rig.mysql_admin, country, [i for i, c in ids.items() if c == country])
            for country in names.COUNTRIES
        )

    # Only a committed booking is announced: when all read completed, MySQL holds every one.
    held_when_completed = stored()
    rig.report(f"when all {POSTED} read completed, MySQL held {held_when_completed}")
    assert held_when_completed == POSTED
    told = wait_all_told(
        rig.kit_config,
        rig.stack.outputs,
        started_ms,
        ids,
        timeout=rig.kit_config.queue_visibility_timeout * (rig.kit_config.max_receive_count + 1),
    )
    after_restart = tally(rig.kit_config, rig.stack.outputs, stopped_ms, ids)
    carried = sorted(i for i, found in after_restart.outcomes.items() if found)
    rows, listed = mysql_rows(rig.mysql_admin, insured), rig.api.statuses(insured)
    rig.report(
        f"sent {POSTED}, listed {len(listed)}, completed {list(listed.values()).count('completed')}, "
        f"MySQL rows of the insured {sum(rows.values())}; processed after the restart: {len(carried)}; "
        f"{told.summary()}"
    )
    assert stored() == POSTED
    assert len(listed) == POSTED
    assert rows == Counter({(table_of(c), i): 1 for i, c in ids.items()})
    # A repeat after the restart (committed, then stopped before the message was deleted) finds
    # the row and announces it again: every announcement is the stored outcome, and the status
    # changes once for every appointment.
    assert told.status_changes == Counter(dict.fromkeys(ids, 1)), told.callbacks
    assert {i: {o.removesuffix(STORED_BEFORE) for o in found} for i, found in told.outcomes.items()} == {
        i: {"scheduled"} for i in ids
    }, told.outcomes


def test_what_the_engine_saved_is_readable_by_this_user_alone(
    stage: OwnStage, report: Callable[[str], None]
) -> None:
    """The saved state holds every SecureString in plain text: the engine runs under umask 077.
    The test's own engine saved its state once before the tests began (it was stopped and started
    again as it came up), whatever order the tests run in."""
    if stage.config.engine != "ministack" or not stage.config.persist:
        pytest.skip("only the Docker-free engine with PERSIST=1 saves its state in .local/")
    files = ministack.files_of(stage.config)
    secrets = [STATE_DIR, LOCAL_API_KEY, files.folder, files.log, files.pid]
    for folder in (files.state, files.s3):
        secrets += [folder, *folder.rglob("*")] if folder.exists() else []
    open_to_others = [str(path) for path in secrets if path.stat().st_mode & 0o077]
    report(
        f"{len(secrets)} files and folders of the kit and the engine's state, readable by others: {open_to_others}"
    )
    assert any(path.is_relative_to(files.state) and path.is_file() for path in secrets)
    assert open_to_others == []
