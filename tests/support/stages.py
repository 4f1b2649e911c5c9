"""A stage of its own for every test that breaks something.

A test that revokes a grant, kills connections, writes a wrong SSM value, refuses the topic,
rotates the API key, sends poison or replaces a function's code does it on its own stage of the
shared engine: its own stack (functions, queues and DLQs, topic, bus, tables), its own SSM
parameters (a prefix of its own), its own API key and its own MySQL users, granted on the shared
country schemas as the kit's users are. What it breaks, nothing else uses; what it counts, it
counts by its own random ids. The waits that are the point of a test are the stage's settings,
template parameters the test reads back from here.

The engine keeps the stages: a second run finds each unchanged and goes on in about a second.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Any, TypedDict

import pytest

from bootstrap import names, packaging
from bootstrap.config import STATE_DIR, KitConfig, open_private, private_dir
from bootstrap.dev.kit import Stack
from bootstrap.engines import ministack
from bootstrap.stack import parameters, provision, warm
from bootstrap.stack.queries import admin_connection, stack_outputs
from tests.support.api_client import AppointmentsApi

STAGE_KEYS = STATE_DIR / "test-stages"
# The engine the restart test stops and starts: another port and a state folder of its own.
OWN_ENGINE_PORT_OFFSET = 100
OWN_ENGINE_STATE = STATE_DIR / "test-engines" / "restart"
PROVISIONED_AT_ONCE = 4


class StageWaits(TypedDict, total=False):
    """Settings a stage's waits come from, given to StageSpec by name."""

    queue_visibility_timeout: int
    queue_function_timeout: int
    hand_over_after_seconds: int


@dataclass(frozen=True)
class StageSpec:
    """A stage's name, the tests that use it (a module under tests/), what they break, and the
    settings their waits come from."""

    name: str
    test: str
    breaks: str
    queue_visibility_timeout: int = 10
    max_receive_count: int = 3
    queue_function_timeout: int = 10
    api_key_cache_seconds: int = 60
    reconciler_rate: str = "rate(1 minute)"
    hand_over_after_seconds: int = 60
    # The functions (their outputs) the session leaves cold: the test recycles their workers
    # anyway (a new environment value, new code), or never calls them.
    left_cold: tuple[str, ...] = ()


# Retries seen in seconds: the processors time out after 6 s; a message is hidden for 12, so a
# delivery whose worker starts cold on a busy machine and then waits out its whole timeout (a
# database host that never answers) is not received again while it still runs.
SHORT_RETRIES: dict[str, Any] = {"queue_visibility_timeout": 12, "queue_function_timeout": 6}
# Where each failed delivery fails at once (a refused INSERT, a malformed body, a refused
# password), a message is hidden for 8 s: a cold start and the failure still fit in it.
FAST_FAILURES: dict[str, Any] = {"queue_visibility_timeout": 8, "queue_function_timeout": 6}
# The tests that put hundreds of appointments through their stage run one after the other (on one
# worker), so two such bursts never share the machine's cores.
UNDER_LOAD = "under-load"
# A stage whose test holds appointments up downstream (MySQL refusing, wrong database settings)
# and counts each delivery or announcement:
# its reconciler leaves them alone for ten minutes, as the stage's own outage is shorter, so what
# the test counts is the queue's retries and the redrive alone (a hand-over again, due after a
# minute on the kit's stage, would add a delivery).
HOLDS_UP: StageWaits = {"hand_over_after_seconds": 600}
PE_PROCESSOR, CL_PROCESSOR = (names.processor_function_output(country) for country in names.COUNTRIES)

STAGES = {
    spec.name: spec
    for spec in (
        StageSpec(
            "t-outage-short",
            "faults/test_mysql_outage.py",
            "REVOKE and KILL on its processors' MySQL users",
            max_receive_count=5,
            **FAST_FAILURES,
            **HOLDS_UP,
            left_cold=(CL_PROCESSOR,),
        ),
        StageSpec(
            "t-outage-long",
            "faults/test_mysql_outage.py",
            "REVOKE and KILL on its processors' MySQL users",
            max_receive_count=2,
            **FAST_FAILURES,
            **HOLDS_UP,
            left_cold=(PE_PROCESSOR,),
        ),
        StageSpec(
            "t-seams",
            "faults/test_seams.py",
            "its topic refusing the HTTP function's publish",
            **FAST_FAILURES,
        ),
        *(
            StageSpec(
                f"t-settings-{n}",
                "faults/test_seams.py",
                f"a wrong database setting in SSM ({kind})",
                **SHORT_RETRIES,
                **HOLDS_UP,
                left_cold=(PE_PROCESSOR, CL_PROCESSOR),
            )
            for n, kind in enumerate(("refused port", "wrong password", "host that never answers"), 1)
        ),
        StageSpec(
            "t-keys", "e2e/test_client_keys.py", "its API key rotated and removed", api_key_cache_seconds=5
        ),
        StageSpec(
            "t-poison",
            "faults/test_poison_and_hostile_messages.py",
            "poison and hostile messages in its queues",
            max_receive_count=2,
            **FAST_FAILURES,
        ),
        StageSpec(
            "t-repeat", "faults/test_repeated_delivery.py", "a message delivered twice to its PE queue"
        ),
        StageSpec(
            "t-chaos",
            "faults/test_chaos.py",
            "dropped COMMITs, silent connections, a killed worker",
            **HOLDS_UP,
            left_cold=(PE_PROCESSOR, CL_PROCESSOR),
        ),
        StageSpec(
            "t-reload",
            "e2e/test_hot_reload.py",
            "its HTTP function's code replaced by `make watch`",
            left_cold=(names.HTTP_FUNCTION_NAME,),
        ),
        StageSpec(
            "t-restart", "faults/test_engine_restart.py", "its engine stopped mid-flow (an engine of its own)"
        ),
        StageSpec(
            "t-console",
            "faults/test_console_dead_letters.py",
            "a wrong PE database password in SSM until a message reaches its DLQ, redriven from the console",
            max_receive_count=2,
            **FAST_FAILURES,
            left_cold=(PE_PROCESSOR, CL_PROCESSOR),
        ),
    )
}
OWN_ENGINE_STAGE = "t-restart"


def mysql_user(spec: StageSpec, country: str) -> str:
    return f"{names.mysql_user(country)}_{spec.name.replace('-', '_')}"


def mysql_password(user: str) -> str:
    return f"{user}_local"  # a local user of the local MySQL, as mysql-init/local/'s are


def own_engine(kit: KitConfig) -> KitConfig:
    """The restart test's engine: the kit's settings on another port, with its own state folder."""
    return dataclasses.replace(
        kit, engine_port=kit.engine_port + OWN_ENGINE_PORT_OFFSET, state_dir=OWN_ENGINE_STATE
    )


def stage_config(kit: KitConfig, spec: StageSpec) -> KitConfig:
    """The kit's settings for the stage: its own names, prefixes and waits; the kit's artifacts."""
    on = own_engine(kit) if spec.name == OWN_ENGINE_STAGE else kit
    return dataclasses.replace(
        on,
        stage=spec.name,
        db_parameters_prefix=f"/rimac/{spec.name}/db",
        api_key_parameter=f"/rimac/{spec.name}/api/key",
        artifact_bucket_name=kit.artifact_bucket,
        queue_visibility_timeout=spec.queue_visibility_timeout,
        max_receive_count=spec.max_receive_count,
        queue_function_timeout=spec.queue_function_timeout,
        api_key_cache_seconds=spec.api_key_cache_seconds,
        reconciler_rate=spec.reconciler_rate,
        hand_over_after_seconds=spec.hand_over_after_seconds,
    )


def grant_users(kit: KitConfig, spec: StageSpec) -> None:
    """The stage's country users, made when missing and granted what the kit's users have."""
    with admin_connection(kit, autocommit=True) as connection, connection.cursor() as cursor:
        for country in names.COUNTRIES:
            user = mysql_user(spec, country)
            cursor.execute("CREATE USER IF NOT EXISTS %s@'%%' IDENTIFIED BY %s", (user, mysql_password(user)))
            cursor.execute(f"GRANT SELECT, INSERT ON {names.schema(country)}.* TO %s@'%%'", (user,))


def api_key(spec: StageSpec) -> str:
    """The stage's key: made once and kept in .local/test-stages/<stage>.key."""
    kept = STAGE_KEYS / f"{spec.name}.key"
    if kept.exists():
        return kept.read_text().strip()
    private_dir(STAGE_KEYS)
    key = parameters.new_api_key()
    with open_private(kept) as out:
        out.write(key + "\n")
    return key


def provision_stage(kit: KitConfig, spec: StageSpec, zips: list[packaging.BuiltZip]) -> Stack:
    """Users, SSM parameters, API key and stack of the stage; every step a no-op when done."""
    config = stage_config(kit, spec)
    grant_users(kit, spec)
    ssm = config.client("ssm")
    for country in names.COUNTRIES:
        user = mysql_user(spec, country)
        values = parameters.connection_parameter_values(
            kit.lambda_mysql_host, kit.lambda_mysql_port, user, mysql_password(user), names.schema(country)
        )
        parameters.put_country_parameters(ssm, config.db_parameters_prefix, country, values)
    key = api_key(spec)
    ssm.put_parameter(Name=config.api_key_parameter, Value=key, Type="SecureString", Overwrite=True)
    provision.deploy_stack(config, provision.stack_parameters(config, zips))
    return staged(config, key)


def staged(config: KitConfig, key: str) -> Stack:
    return Stack.of(config, stack_outputs(config), key)


SHARED_STAGES = tuple(spec for spec in STAGES.values() if spec.name != OWN_ENGINE_STAGE)


def provision_shared_stages(
    kit: KitConfig, zips: list[packaging.BuiltZip], specs: tuple[StageSpec, ...] = SHARED_STAGES
) -> list[Stack]:
    """These stages on the kit's engine (the restart test's has an engine of its own), a few at a
    time (most of a stage's provisioning is waiting for the engine's answers), in their order;
    every stage there when none is named."""
    with ThreadPoolExecutor(max_workers=PROVISIONED_AT_ONCE) as pool:
        return list(pool.map(lambda spec: provision_stage(kit, spec, zips), specs))


def warm_stages(kit: KitConfig, stacks: list[tuple[Stack, StageSpec | None]]) -> int:
    """One worker started for each function of each stage (the reconciler aside: it runs on its
    schedule; and what the stage leaves cold), all at once, so a test does not wait for its
    stage's cold starts while others run; a no-op on workers the engine kept. Returns how many
    functions were invoked."""
    functions = {
        stack.outputs[function.output]: function
        for stack, spec in stacks
        for function in names.FUNCTIONS
        if function.output != names.RECONCILER_FUNCTION_NAME
        and function.output not in (spec.left_cold if spec else ())
    }
    warm.warm(kit.client("lambda"), functions, workers=1)
    return len(functions)


def kit_zips(kit: KitConfig) -> list[packaging.BuiltZip]:
    """The zips the kit's stack runs (built by its `make up`, found by their content hash)."""
    return packaging.build(ministack.zip_target(kit))


@dataclass(frozen=True)
class OwnStage:
    """What a test works with on its stage (the `stage` fixture)."""

    spec: StageSpec
    config: KitConfig  # the stage's settings: its names, prefixes, waits, engine
    stack: Stack

    @classmethod
    def of(cls, kit: KitConfig, spec: StageSpec) -> OwnStage:
        """The stage as the provisioning left it (its outputs read from the engine)."""
        config = stage_config(kit, spec)
        return cls(spec, config, staged(config, api_key(spec)))

    @cached_property
    def api(self) -> AppointmentsApi:
        return AppointmentsApi(self.stack.api_url, self.stack.api_key)

    def mysql_user(self, country: str) -> str:
        return mysql_user(self.spec, country)


def on_stage(name: str, group: str | None = None) -> list[pytest.MarkDecorator]:
    """A module's marks: its tests run on the stage `name`, one after another on one worker (with
    the other tests of `group`, when given)."""
    if name not in STAGES:
        raise ValueError(f"no test stage {name!r}; tests/support/stages.py lists them")
    return [pytest.mark.stage(name), pytest.mark.xdist_group(group or name)]
