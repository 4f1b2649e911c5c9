"""One API key per client application, on the stage `t-keys`, whose parameter these tests rewrite:
a parameter of two named keys lets both in and the function's log names the client that called; a
key removed from it is refused within the stage's cache age; a rotated key works at once; an
Idempotency-Key is its client's own. The parameter goes back to the stage's key afterwards."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from appointments.adapters.ssm import RECHECK_SECONDS
from bootstrap import names
from bootstrap.config import KitConfig
from bootstrap.stack.queries import function_logs, stack_outputs
from tests.support.api_client import AppointmentsApi, Reply
from tests.support.polling import wait_for
from tests.support.random_refs import random_idempotency_key, random_insured_id, random_schedule_id
from tests.support.stages import OwnStage, on_stage
from tests.support.written_secrets import remember_keys

pytestmark = on_stage("t-keys")


def removed_key_refused_within(stage: OwnStage) -> float:
    """How long a removed key may still work: the stage's cache age (ApiKeyCacheSeconds), then a
    key that matches nothing makes the function read SSM again (at most every 5 s per worker)."""
    return stage.spec.api_key_cache_seconds + RECHECK_SECONDS + 5


@pytest.fixture
def key_parameter(stage: OwnStage) -> Iterator[Callable[[str], None]]:
    """Writes the stage's API key parameter; puts the stage's key back after the test."""
    ssm = stage.config.client("ssm")

    def put(value: str) -> None:
        remember_keys(value)  # for the audit that scans every log line for a secret
        ssm.put_parameter(
            Name=stage.config.api_key_parameter, Value=value, Type="SecureString", Overwrite=True
        )

    yield put
    put(stage.stack.api_key)
    wait_for(
        lambda: stage.api.list("NOBODY").status == 200,
        timeout=removed_key_refused_within(stage),
        describe="the stage's key accepted again",
    )


def http_log_lines(kit_config: KitConfig, since_ms: int) -> list[dict[str, Any]]:
    http = stack_outputs(kit_config)[names.HTTP_FUNCTION_NAME]
    return [
        e.fields for e in function_logs(kit_config.client("logs"), http, since_ms) if e.fields is not None
    ]


def test_two_named_keys_are_both_accepted_the_log_names_the_client_and_a_removed_key_is_refused(
    stage: OwnStage,
    key_parameter: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    stack, kit_config = stage.stack, stage.config
    old, new = f"old-{uuid.uuid4().hex}", f"new-{uuid.uuid4().hex}"
    with_old = AppointmentsApi(stack.api_url, old)
    with_new, stranger = with_old.with_key(new), with_old.with_key(f"stranger-{uuid.uuid4().hex}")
    insured = random_insured_id("KEYS")
    since_ms = int(time.time() * 1000) - 1000

    # 1. both keys, each under its client's name: the new one is not cached, so it is read at once
    key_parameter(json.dumps({"portal": old, "portal-next": new}))
    wait_for(lambda: with_new.list(insured).status == 200, timeout=30, describe="the new key accepted")
    assert with_old.list(insured).status == 200
    assert stranger.list(insured).status == 403

    # 2. the function's log says which client read this insured's appointments, never the key
    def clients_logged() -> set[str] | None:
        lines = [line for line in http_log_lines(kit_config, since_ms) if line.get("insured_id") == insured]
        clients = {str(line.get("api_client")) for line in lines}
        return clients if {"portal", "portal-next"} <= clients else None

    logged = wait_for(clients_logged, timeout=30, interval=0.5, describe="both clients in the log")
    every_line = json.dumps(http_log_lines(kit_config, since_ms))
    assert old not in every_line
    assert new not in every_line

    # 3. the old key removed: refused once the function reads the parameter again
    key_parameter(json.dumps({"portal-next": new}))
    started = time.monotonic()

    def old_refused() -> bool:
        stranger.list(insured)  # a key that matches nothing makes the function read SSM again
        return with_old.list(insured).status == 403

    wait_for(
        old_refused, timeout=removed_key_refused_within(stage), interval=1, describe="the removed key refused"
    )
    refused_after = time.monotonic() - started
    assert with_new.list(insured).status == 200
    with capsys.disabled():
        print(
            f"  [keys] two named keys both answered 200, the log names {sorted(logged)}; "
            f"the removed key was refused {refused_after:.1f}s after it left the parameter"
        )


def test_an_idempotency_key_is_its_clients_own_another_client_sending_it_gets_its_own_answer(
    stage: OwnStage, key_parameter: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    stack = stage.stack
    portal_key, billing_key = f"portal-{uuid.uuid4().hex}", f"billing-{uuid.uuid4().hex}"
    portal = AppointmentsApi(stack.api_url, portal_key)
    billing = portal.with_key(billing_key)
    key_parameter(json.dumps({"portal": portal_key, "billing": billing_key}))
    wait_for(
        lambda: portal.list("NOBODY").status == billing.list("NOBODY").status == 200,
        timeout=30,
        describe="both clients' keys accepted",
    )
    request = {"insuredId": random_insured_id("IDEM"), "scheduleId": random_schedule_id(), "countryISO": "PE"}
    same, other = random_idempotency_key("shared"), random_idempotency_key("shared")

    # the same key and body from two clients: two appointments, and each retry finds its own
    first = portal.create(request, idempotency_key=same)
    from_billing = billing.create(request, idempotency_key=same)
    retried = portal.create(request, idempotency_key=same)
    # a key one client used, sent by another with another body: accepted, not 422
    portal.create({**request, "scheduleId": int(request["scheduleId"]) + 1}, idempotency_key=other)
    other_body = billing.create(
        {**request, "scheduleId": int(request["scheduleId"]) + 2}, idempotency_key=other
    )

    assert (first.status, from_billing.status, retried.status, other_body.status) == (202, 202, 202, 202)
    assert from_billing.body["appointmentId"] != first.body["appointmentId"]
    assert retried.body == first.body
    assert len(portal.list(str(request["insuredId"])).body["items"]) == 4
    with capsys.disabled():
        print(
            "  [keys] one Idempotency-Key from two clients: two appointments; "
            f"the other client's other body answered {other_body.status}"
        )


def test_a_rotated_api_key_works_at_once(
    stage: OwnStage, key_parameter: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    api = stage.api
    assert api.list("NOBODY").status == 200  # the old key is cached by the workers
    # A worker reads the parameter again for an unknown key at most every RECHECK_SECONDS: past
    # that window since the last unknown key any test sent, the new key must work on its first try.
    time.sleep(RECHECK_SECONDS)
    rotated = "rotated-" + uuid.uuid4().hex
    key_parameter(rotated)
    with_new = api.with_key(rotated).list("NOBODY").status

    def old_key_refused() -> Reply | None:
        reply = api.list("NOBODY")
        return reply if reply.status == 403 else None

    refused = wait_for(
        old_key_refused, timeout=removed_key_refused_within(stage), describe="the old key refused"
    )
    # The new key still answers once the old one is refused: at once on a worker that read the
    # parameter again, within the recheck window on one that had just read it.
    after = wait_for(
        lambda: api.with_key(rotated).list("NOBODY").status == 200 and 200,
        timeout=RECHECK_SECONDS + 5,
        describe="the new key answering after the old one was refused",
    )
    with capsys.disabled():
        print(
            f"  [keys] key rotated in SSM: the new key answered {with_new} at once and {after} after the old "
            f"one was refused ({refused.body})"
        )
    assert with_new == 200
    assert refused.body == {"message": "this API key is not valid"}
    assert after == 200
