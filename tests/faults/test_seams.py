"""The two seams that used to strand appointments, caused for real on the running stack:

- the topic refuses the HTTP function's publish: the request is still accepted (it is stored,
  marked as not handed over), a retry with the same Idempotency-Key is the same appointment, and
  once the topic works the reconciler hands it over and it completes, once; a second run at
  once hands none of them over again (each settled, or not due before its wait), and the
  settling write took each out of the outbox;
- a country's database settings in SSM are wrong when its processors start cold: each failed
  connection drops the cached settings, so the fix is read on the next retry and the
  appointments complete without reaching the DLQ or needing `make redrive`.

Each on a stage of its own: the topic, and each kind of wrong settings (retries every 12 s, as
the processors start cold).
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from appointments.adapters.dynamodb_items import OUTBOX_ATTRIBUTE
from bootstrap import names
from tests.support.counts import dead_letter_depths, stored_rows, stored_rows_per_country
from tests.support.faults import FaultRig
from tests.support.functions import environment_changed, schedule_paused
from tests.support.kit_cli import kit_command
from tests.support.polling import wait_for
from tests.support.random_refs import random_idempotency_key, random_insured_id, random_schedule_id
from tests.support.silent_server import silent_server
from tests.support.stages import on_stage
from tests.support.tally import mysql_rows, table_of, tally, wait_all_told


@pytest.mark.stage("t-seams")
@pytest.mark.xdist_group("t-seams")
def test_a_refused_publish_is_accepted_kept_and_handed_over_once_the_topic_works(
    rig: FaultRig,
) -> None:
    lambda_client = rig.kit_config.client("lambda")
    http = rig.stack.outputs[names.HTTP_FUNCTION_NAME]
    reconciler = rig.stack.outputs[names.RECONCILER_FUNCTION_NAME]
    insured, base = random_insured_id("FLT"), random_schedule_id()
    bodies = [
        {"insuredId": insured, "scheduleId": base + n, "countryISO": names.country_in_turn(n)}
        for n in range(5)
    ]
    keys = [random_idempotency_key("seam") for _ in bodies]
    dlq_before = dead_letter_depths(rig.sqs, rig.stack.outputs)
    started_ms = int(time.time() * 1000)

    # The test invokes the reconciler itself; a scheduled run beside it would hand the same
    # appointments over a second time
    schedule = rig.stack.outputs[names.RECONCILER_SCHEDULE_NAME]
    with schedule_paused(rig.kit_config.client("events"), schedule):
        with environment_changed(
            lambda_client, http, TOPIC_ARN=rig.stack.outputs[names.TOPIC_ARN] + "-missing"
        ):
            first = [
                rig.api.create(body, idempotency_key=key) for body, key in zip(bodies, keys, strict=True)
            ]
            retried = [
                rig.api.create(body, idempotency_key=key) for body, key in zip(bodies, keys, strict=True)
            ]
            rig.report(
                f"topic refused: sent {len(bodies)}, answered {[r.status for r in first]}, retried with the same keys"
            )
            assert [r.status for r in first] == [202] * len(bodies)
            assert [r.body for r in retried] == [r.body for r in first]
            ids = [r.body["appointmentId"] for r in first]
            during = rig.api.statuses(insured)
            rig.report(f"while refused: {len(during)} appointments listed, {sorted(set(during.values()))}")
            assert set(during) == set(ids)
            assert set(during.values()) == {"pending"}
            waiting = kit_command(rig.kit_config, "trace", ids[0]).splitlines()[-1].strip()
            rig.report(f"make trace on one of them: {waiting}")
            assert waiting.startswith("stopped: status pending, not swept yet")

        reply = lambda_client.invoke(
            FunctionName=reconciler, Payload=json.dumps({"olderThanSeconds": 0}).encode()
        )
        handed = json.loads(reply["Payload"].read())
        rig.report(
            f"topic healed; the reconciler handed over {len(set(ids) & set(handed['handedOver']))} of ours"
        )
        assert set(ids) <= set(handed["handedOver"])
        again = json.loads(
            lambda_client.invoke(
                FunctionName=reconciler, Payload=json.dumps({"olderThanSeconds": 0}).encode()
            )["Payload"].read()
        )
        rig.report(f"a second run at once handed over {len(set(ids) & set(again['handedOver']))} of ours")
        # each is settled by now, or handed over a moment ago and not due again before its wait
        assert not set(ids) & set(again["handedOver"])

        wait_for(
            lambda: set(rig.api.statuses(insured).values()) == {"completed"},
            timeout=rig.deadlines.burst,
            describe="every accepted appointment completed",
        )
        listed = rig.api.statuses(insured)
        rows = stored_rows_per_country(rig.mysql_admin, ids)
        told = wait_all_told(rig.kit_config, rig.stack.outputs, started_ms, ids, timeout=rig.deadlines.flow)
        insured_rows = mysql_rows(rig.mysql_admin, insured)
        dlq_after = dead_letter_depths(rig.sqs, rig.stack.outputs)
        rig.report(
            f"sent {len(ids)}, listed {len(listed)}, completed {list(listed.values()).count('completed')}, "
            f"MySQL rows {rows} ({sum(insured_rows.values())} of the insured), {told.summary()}, "
            f"DLQ {dlq_before} -> {dlq_after}"
        )
        assert len(listed) == len(ids)
        assert Counter(rows) == Counter(body["countryISO"] for body in bodies)
        assert insured_rows == Counter(
            {(table_of(b["countryISO"]), i): 1 for b, i in zip(bodies, ids, strict=True)}
        )
        # One hand-over each: a second would be harmless (the stored outcome announced again, the
        # callback finding it settled), but it would show the reconciler publishing what SNS had.
        assert told.announced == Counter(dict.fromkeys(ids, 1))
        assert told.callbacks == {i: ["appointment settled"] for i in ids}
        assert dlq_after == dlq_before
        assert "by the reconciler" in kit_command(rig.kit_config, "trace", ids[0])
        # the callback's settling write took each out of the outbox
        table, dynamodb = rig.stack.outputs[names.TABLE_NAME], rig.kit_config.client("dynamodb")
        marked = [
            i
            for i in ids
            if OUTBOX_ATTRIBUTE
            in dynamodb.get_item(
                TableName=table,
                Key={"insuredId": {"S": insured}, "appointmentId": {"S": i}},
                ConsistentRead=True,
            )["Item"]
        ]
        assert marked == []


@contextmanager
def broken_database(kind: str) -> Iterator[dict[str, str]]:
    """The PE parameters to write for each way a database can fail a processor."""
    if kind == "refused port":
        yield {"port": "1"}
    elif kind == "wrong password":
        yield {"password": "not-the-password"}
    else:  # a host that accepts the connection and never answers
        with silent_server() as (host, port):
            yield {"host": host, "port": str(port)}


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(kind, marks=on_stage(f"t-settings-{n}"))
        for n, kind in enumerate(("refused port", "wrong password", "host that never answers"), 1)
    ],
)
def test_wrong_database_settings_on_cold_processors_are_read_again_once_fixed(
    kind: str,
    rig: FaultRig,
) -> None:
    ssm, lambda_client = rig.kit_config.client("ssm"), rig.kit_config.client("lambda")
    parameters = names.db_parameter_names(rig.kit_config.db_parameters_prefix, "PE")
    processor = rig.stack.outputs[names.processor_function_output("PE")]
    insured, base = random_insured_id("FLT"), random_schedule_id()
    dlq_before = dead_letter_depths(rig.sqs, rig.stack.outputs)
    started_ms = int(time.time() * 1000)

    with broken_database(kind) as changes:
        kept = {
            name: ssm.get_parameter(Name=parameters[name], WithDecryption=True)["Parameter"]
            for name in changes
        }
        for name, value in changes.items():
            ssm.put_parameter(Name=parameters[name], Value=value, Type=kept[name]["Type"], Overwrite=True)
        try:
            # A new environment value recycles the warm workers: the next batch starts cold and
            # reads the broken settings, as after a deploy or a scale-out.
            with environment_changed(lambda_client, processor, COLD_START=uuid.uuid4().hex):
                replies = [
                    rig.api.create({"insuredId": insured, "scheduleId": base + n, "countryISO": "PE"})
                    for n in range(10)
                ]
                assert [r.status for r in replies] == [202] * 10
                ids = [r.body["appointmentId"] for r in replies]
                # Each record is reported failed, within the function's timeout: a batch that
                # hung until it timed out would log no record at all.
                failed = wait_for(
                    lambda: (
                        sum(
                            map(
                                len,
                                tally(rig.kit_config, rig.stack.outputs, started_ms, ids).failures.values(),
                            )
                        )
                        or None
                    ),
                    timeout=rig.deadlines.flow,
                    describe="the processor to report records failed on the broken settings",
                )
                rig.report(
                    f"{kind}: 10 PE posted to cold processors; {failed} records reported failed; fixing it"
                )
        finally:
            for name, parameter in kept.items():
                ssm.put_parameter(
                    Name=parameters[name], Value=parameter["Value"], Type=parameter["Type"], Overwrite=True
                )

    wait_for(
        lambda: set(rig.api.statuses(insured).values()) == {"completed"},
        # Two more receives at most: the retry after the fix must succeed before the DLQ takes them.
        timeout=rig.kit_config.queue_visibility_timeout * 2 + 15,
        describe="all 10 completed with the fixed settings",
    )
    stored, dlq_after = (
        stored_rows(rig.mysql_admin, "PE", ids),
        dead_letter_depths(rig.sqs, rig.stack.outputs),
    )
    told = wait_all_told(rig.kit_config, rig.stack.outputs, started_ms, ids, timeout=rig.deadlines.flow)
    insured_rows = mysql_rows(rig.mysql_admin, insured)
    rig.report(
        f"sent 10, completed 10, in MySQL {stored} ({sum(insured_rows.values())} of the insured), "
        f"{told.summary()}, DLQ {dlq_before} -> {dlq_after}, no redrive"
    )
    assert stored == 10
    assert insured_rows == Counter({(table_of("PE"), i): 1 for i in ids})
    assert told.announced == Counter(dict.fromkeys(ids, 1))
    assert told.callbacks == {i: ["appointment settled"] for i in ids}
    assert dlq_after == dlq_before
