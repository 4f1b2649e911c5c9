"""Chaos under load: what a patient is told is what MySQL holds, whatever fails and when.

Both countries' processors reach MySQL through a TCP proxy this test steers. A few hundred
appointments are posted by several clients at once, in pairs that ask for the same slot, and
while they flow: COMMITs are dropped as they pass (some before the server sees them, so the
booking is rolled back; some after, so it is kept and its answer lost), every connection is held
silent for several seconds and then reset, and a processor worker is killed with SIGKILL.
Afterwards every appointment is completed or rejected, each slot has exactly one completed, and
for every appointment GET agrees with MySQL: completed with a row in `appointments`, rejected with
one in `appointment_rejections`, never both, never two. What the outage pushed into a DLQ is
redriven and counted apart.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pymysql
import pytest

from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.dev.kit import Stack
from bootstrap.ops.redrive import redrive
from bootstrap.stack.queries import queue_depth
from tests.support.api_client import AppointmentsApi
from tests.support.counts import dead_letter_depths
from tests.support.functions import environment_changed
from tests.support.polling import wait_for
from tests.support.random_refs import random_idempotency_key, random_insured_id, random_schedule_id
from tests.support.stages import UNDER_LOAD, OwnStage, on_stage
from tests.support.tally import STORED_BEFORE, mysql_rows, now_ms, table_of, wait_all_told
from tests.support.tcp_proxy import MySqlChaosProxy

# Its own stage: its processors reach MySQL through the proxy, and their workers are killed.
pytestmark = on_stage("t-chaos", group=UNDER_LOAD)

CLIENTS = 4
SLOTS_PER_COUNTRY = 60  # pairs: 240 appointments in all
DROP_EVERY = 6  # one COMMIT in six is dropped, alternately before and after the server took it
BLACK_HOLE_SECONDS = 4.0


@contextmanager
def processors_through(
    proxy: MySqlChaosProxy, kit_config: KitConfig, stack: Stack, report: Callable[[str], None]
) -> Iterator[None]:
    """Both countries' database host and port in SSM point at the proxy, and the processors'
    warm workers are recycled so the next ones read them; all put back afterwards."""
    ssm, lambda_client = kit_config.client("ssm"), kit_config.client("lambda")
    kept = {}
    for country in names.COUNTRIES:
        parameters = names.db_parameter_names(kit_config.db_parameters_prefix, country)
        for name, value in (("host", "127.0.0.1"), ("port", str(proxy.port))):
            kept[parameters[name]] = ssm.get_parameter(Name=parameters[name], WithDecryption=True)[
                "Parameter"
            ]
            ssm.put_parameter(
                Name=parameters[name], Value=value, Type=kept[parameters[name]]["Type"], Overwrite=True
            )

    def put_back() -> None:
        for name, parameter in kept.items():
            ssm.put_parameter(Name=name, Value=parameter["Value"], Type=parameter["Type"], Overwrite=True)

    with ExitStack() as undo:
        try:
            for country in names.COUNTRIES:
                function = stack.outputs[names.processor_function_output(country)]
                undo.enter_context(environment_changed(lambda_client, function, CHAOS_RUN=uuid.uuid4().hex))
        finally:
            undo.callback(put_back)  # first on the way out: the recycled workers read what was there
        report(f"both countries' processors reach MySQL through the proxy on 127.0.0.1:{proxy.port}")
        yield


def worker_pids(function: str) -> list[int]:
    """The engine's warm workers of one function (ministack runs each as a local process)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if f"ministack-lambda-{function}-".encode() in command:
                found.append(int(proc.name))
    return found


def post_all(api: AppointmentsApi, bodies: list[dict[str, Any]]) -> list[tuple[dict[str, Any], Any]]:
    """Each client posts its share at once with the others, each request with its own key."""
    clients = [
        AppointmentsApi(api.base_url, api.api_key) for _ in range(CLIENTS)
    ]  # one connection each, as separate callers hold

    def post(index: int) -> list[tuple[dict[str, Any], Any]]:
        mine = bodies[index::CLIENTS]
        return [(body, clients[index].create(body, random_idempotency_key("chaos"))) for body in mine]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [answer for share in pool.map(post, range(CLIENTS)) for answer in share]


def test_under_dropped_commits_a_black_hole_and_a_killed_worker_every_outcome_is_what_mysql_holds(
    stage: OwnStage,
    mysql_admin: pymysql.connections.Connection,
    report: Callable[[str], None],
) -> None:
    api, sqs, stack, kit_config = stage.api, stage.config.client("sqs"), stage.stack, stage.config
    if kit_config.engine != "ministack":
        pytest.skip("the processors reach the proxy on this host only when they run on it (ministack)")
    insureds = [random_insured_id("CHAOS") for _ in range(CLIENTS)]
    slots = {country: random_schedule_id() for country in names.COUNTRIES}
    # Two appointments per slot, from two different insureds, posted by two different clients.
    bodies = [
        {"insuredId": insureds[(n + twin) % CLIENTS], "scheduleId": slots[country] + n, "countryISO": country}
        for n in range(SLOTS_PER_COUNTRY)
        for country in names.COUNTRIES
        for twin in (0, 1)
    ]
    random.Random(7).shuffle(bodies)
    dlq_before, started_ms = dead_letter_depths(sqs, stack.outputs), now_ms()
    proxy = MySqlChaosProxy((kit_config.mysql_host, kit_config.mysql_port))

    with proxy.running(), processors_through(proxy, kit_config, stack, report):
        proxy.drop_every = DROP_EVERY
        killed: list[int] = []

        def faults() -> None:
            # Once the processors are writing (whether their workers started warm or cold): the
            # black hole then finds connections open, with bookings in flight.
            wait_for(
                lambda: proxy.commits_seen >= 2 * DROP_EVERY,
                timeout=60,
                interval=0.1,
                max_interval=0.1,  # the proxy's own count, no request
                describe="the processors' first COMMITs through the proxy",
            )
            proxy.hold()
            time.sleep(BLACK_HOLE_SECONDS)
            proxy.reset_all()
            time.sleep(2)
            victims = worker_pids(stack.outputs[names.processor_function_output("PE")])
            if victims:
                os.kill(victims[0], signal.SIGKILL)
                killed.append(victims[0])

        chaos = threading.Thread(target=faults)
        chaos.start()
        answers = post_all(api, bodies)
        chaos.join()
        assert [reply.status for _, reply in answers] == [202] * len(bodies), Counter(
            r.status for _, r in answers
        )
        ids = {reply.body["appointmentId"]: body for body, reply in answers}
        report(
            f"posted {len(ids)} from {CLIENTS} clients, {SLOTS_PER_COUNTRY} slots per country asked for twice; "
            f"black hole {BLACK_HOLE_SECONDS:.0f} s, SIGKILL of PE worker {killed or 'none found'}"
        )

        def statuses() -> dict[str, str]:
            return {i: s for insured in insureds for i, s in api.statuses(insured).items()}

        def settled_or_parked() -> dict[str, str] | None:
            """The statuses once every message has been taken or parked: the work queues empty
            (nothing visible, nothing in flight), each appointment still pending in a DLQ."""
            busy = any(
                sum(queue_depth(sqs, stack.outputs[pair.queue_output])) for pair in names.QUEUES.values()
            )
            now = statuses()
            pending = [i for i in ids if now.get(i) == "pending"]
            parked = sum(dead_letter_depths(sqs, stack.outputs).values()) - sum(dlq_before.values())
            return None if busy or len(pending) > parked else now

        receives = kit_config.queue_visibility_timeout * (kit_config.max_receive_count + 2)
        first = wait_for(
            settled_or_parked,
            timeout=receives + 60,
            interval=2,
            describe="every appointment settled or in a DLQ",
        )
        proxy.drop_every = 0
        dropped = dict(proxy.counts)
        report(f"proxy: {dropped}")

        # The rest waits with the processors still reaching MySQL through the proxy (now passing
        # everything): leaving `processors_through` recycles their workers, and a worker
        # recycled takes with it the log lines the engine had not yet read from it.
        still_pending = [i for i in ids if first.get(i) == "pending"]
        parked = {
            name: depth - dlq_before[name] for name, depth in dead_letter_depths(sqs, stack.outputs).items()
        }
        redriven = redrive(kit_config, tuple(names.QUEUES)) if still_pending else {}
        report(f"after the faults: {len(still_pending)} pending, DLQ growth {parked}; redriven {redriven}")
        final = wait_for(
            lambda: (
                (found := statuses())
                and all(found.get(i) in ("completed", "rejected") for i in ids)
                and found
            ),
            timeout=kit_config.queue_visibility_timeout * kit_config.max_receive_count + 60,
            interval=2,
            describe="every appointment completed or rejected",
        )
        rows = Counter[tuple[str, str]]()
        for insured in insureds:
            rows.update(mysql_rows(mysql_admin, insured))
        in_table = {(table, i) for (table, i) in rows}
        told = wait_all_told(kit_config, stack.outputs, started_ms, ids, timeout=120)

    completed_per_slot = Counter(
        (body["countryISO"], body["scheduleId"]) for i, body in ids.items() if final[i] == "completed"
    )
    disagreeing = [
        i
        for i, body in ids.items()
        if (
            (table_of(body["countryISO"]), i) in in_table,
            (table_of(body["countryISO"], "appointment_rejections"), i) in in_table,
        )
        != (final[i] == "completed", final[i] == "rejected")
    ]
    misannounced = [
        i
        for i, found in told.outcomes.items()
        if {o.removesuffix(STORED_BEFORE) for o in found}
        - {"scheduled" if final[i] == "completed" else "rejected"}
    ]
    report(
        f"completed {list(final.values()).count('completed')}, rejected {list(final.values()).count('rejected')} "
        f"of {len(ids)}; pending after the first wait {len(still_pending)}, redriven {redriven}; "
        f"MySQL rows {len(rows)} (doubled {sum(c > 1 for c in rows.values())}); GET disagreeing with MySQL "
        f"{len(disagreeing)}; announced other than stored {len(misannounced)}; {told.summary()}"
    )
    assert dropped.get("commits dropped before the server", 0) > 0
    assert dropped.get("commits kept, answer dropped", 0) > 0
    assert dropped.get("packets held in the black hole", 0) > 0
    assert killed, "no worker of the PE processor was found to kill"
    assert completed_per_slot == Counter(dict.fromkeys(completed_per_slot, 1))
    assert len(completed_per_slot) == 2 * SLOTS_PER_COUNTRY  # every slot has exactly one completed
    assert disagreeing == []
    assert max(rows.values()) == 1
    assert len(rows) == len(ids)
    assert misannounced == []
    assert told.status_changes == Counter(dict.fromkeys(ids, 1))  # each status set once
