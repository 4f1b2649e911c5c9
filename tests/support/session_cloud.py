"""What a test session brings up, once, before pytest-xdist starts its workers: the kit's stack
(`make up`'s), every test stage, and in the background the restart test's own engine. The workers
then only read what is there. Afterwards it stops what it started, and nothing else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bootstrap import names
from bootstrap.config import COMPOSE_FILE, ROOT, STATE_DIR, KitConfig, KitError, private_dir, with_dotenv
from bootstrap.dev import kit
from bootstrap.engines import localstack, ministack
from bootstrap.engines.choice import EngineChoice
from bootstrap.progress import Progress
from tests.support.fixture_plan import FixturePlan, plan_test_stack
from tests.support.own_engine import READY
from tests.support.stages import (
    SHARED_STAGES,
    StageSpec,
    kit_zips,
    own_engine,
    provision_shared_stages,
    warm_stages,
)

PROVISIONED = "RIMAC_TESTS_PROVISIONED"  # set for the workers: the session brought everything up
STAGES_PROVISIONED = "RIMAC_TESTS_STAGES"  # and which stages (a stage no test of the run uses is left)
# The e2e tests' second front door: `python -m bootstrap deploy` with the REST flavour, the command
# that deploys to AWS, pointed at the local engine. What it printed is kept for the workers.
REST_STAGE = "e2edeploy"
REST_DEPLOYED = STATE_DIR / "test-stages" / "rest-deploy.out"
TESTS = ROOT / "tests"
UNIT_TESTS = TESTS / "unit"
RESTART_TEST = ROOT / "tests" / "faults" / "test_engine_restart.py"
E2E_TESTS = ROOT / "tests" / "e2e"
KEY_WRITERS = E2E_TESTS / "test_client_keys.py"  # the tests that write API keys the audit looks for


def _paths(args: list[str]) -> list[Path]:
    return [Path(arg.split("::")[0]).resolve() for arg in args if not arg.startswith("-")]


def needs_the_cloud(args: list[str]) -> bool:
    """Whether the run selects a test beyond tests/unit (no path given: the whole suite)."""
    paths = _paths(args)
    return not paths or any(not path.is_relative_to(UNIT_TESTS) for path in paths)


def may_hold(args: list[str], test: Path) -> bool:
    """Whether the run may hold `test` (the whole suite, or a path that holds it)."""
    paths = _paths(args)
    return not paths or any(test.is_relative_to(path) or path.is_relative_to(test) for path in paths)


def stages_for(args: list[str]) -> tuple[StageSpec, ...]:
    """The shared stages whose tests the run may hold: `make e2e` needs two, the audit none."""
    return tuple(spec for spec in SHARED_STAGES if may_hold(args, TESTS / spec.test))


def rest_stage_arguments(config: KitConfig) -> list[str]:
    """`python -m bootstrap` arguments that deploy the REST stage to the local engine."""
    return [
        *["deploy", "--stage", REST_STAGE, "--api-flavour", "rest", "--endpoint", str(config.endpoint)],
        *["--region", config.region, "--db-parameters-prefix", config.db_parameters_prefix],
        *["--database-tls", config.database_tls],  # the local MySQL's: no TLS here
    ]


def deploy_rest_stage(config: KitConfig) -> subprocess.Popen[str]:
    """The REST stage's deploy, started; `finish_rest_stage` waits for it."""
    REST_DEPLOYED.unlink(missing_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "bootstrap", *rest_stage_arguments(config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "ENGINE": config.engine},
    )


def rest_stack(config: KitConfig, printed: str) -> kit.Stack:
    """The REST stage as its deploy printed it (its outputs, one JSON object at the end)."""
    outputs = json.loads(printed[printed.index("{") :])
    return kit.Stack(outputs, outputs[names.API_URL], outputs[names.API_URL], "", engine_started=False)


def finish_rest_stage(deploy: subprocess.Popen[str]) -> str:
    printed, _ = deploy.communicate(timeout=600)
    if deploy.returncode != 0:
        raise KitError(f"deploying the REST stage to the local engine failed:\n{printed[-3000:]}")
    private_dir(REST_DEPLOYED.parent)
    REST_DEPLOYED.write_text(printed)
    return printed


@dataclass
class SessionCloud:
    """What the session started, to stop at its end."""

    config: KitConfig
    engine_started: bool = False
    stop_compose: Callable[[], None] | None = None
    own_engine: subprocess.Popen[bytes] | None = None

    def close(self) -> None:
        if self.own_engine is not None:
            self.own_engine.wait(timeout=240)
            ministack.stop(own_engine(self.config))
        if self.engine_started:
            ministack.stop()
        if self.stop_compose is not None:
            self.stop_compose()


def _start_compose() -> Callable[[], None]:
    """LocalStack and MySQL through testcontainers, torn down after; a failed start in one line."""
    from subprocess import CalledProcessError

    from testcontainers.compose import DockerCompose

    token = localstack.auth_token(dict(os.environ))
    compose = DockerCompose(ROOT, compose_file_name=COMPOSE_FILE.name, services=list(localstack.SERVICES))
    os.environ["LOCALSTACK_AUTH_TOKEN"] = token  # Compose runs with what `make up` gives it
    os.environ["DOCKER_SOCK"] = localstack.docker_socket(with_dotenv(os.environ))
    try:  # not `with compose`: a failed start would be torn down before it could be read
        compose.start()
    except CalledProcessError as failed:
        message = localstack.start_failure(localstack.failed_command_output(failed))
        compose.stop()
        raise KitError(message) from None
    return compose.stop


def bring_up(
    config: KitConfig,
    choice: EngineChoice,
    say: Callable[[str], None],
    own: bool = True,
    rest_stage: bool = True,
    stages: tuple[StageSpec, ...] = SHARED_STAGES,
) -> SessionCloud:
    running = localstack.is_ready(config) if config.engine == "localstack" else ministack.is_ready(config)
    plan = plan_test_stack(choice, running)
    say(f"test stack: {plan} ({choice.reason})")
    stop_compose = _start_compose() if plan is FixturePlan.COMPOSE else None
    stack = kit.up(config, Progress(), reason=choice.reason)
    cloud = SessionCloud(config, engine_started=stack.engine_started, stop_compose=stop_compose)
    if config.engine == "ministack" and own:
        READY.parent.mkdir(parents=True, exist_ok=True)
        READY.unlink(missing_ok=True)
        log = (READY.parent / "up.log").open("wb")
        cloud.own_engine = subprocess.Popen(
            [sys.executable, "-m", "tests.support.own_engine"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        say(f"restart test's engine: starting in the background on port {own_engine(config).engine_port}")
    can_deploy = config.engine != "ministack" or ministack.engine_python_version() == "3.12"
    rest = deploy_rest_stage(config) if rest_stage and can_deploy else None
    zips = kit_zips(config)
    began = time.monotonic()
    staged = provision_shared_stages(config, zips, stages)
    named = ", ".join(spec.name for spec in stages) or "none of the tests selected uses one"
    say(f"{len(staged)} test stages ready in {time.monotonic() - began:.1f}s: {named}")
    to_warm: list[tuple[kit.Stack, StageSpec | None]] = list(zip(staged, stages, strict=True))
    if rest is not None:
        to_warm.append((rest_stack(config, finish_rest_stage(rest)), None))
    warmed = warm_stages(config, to_warm)
    say(f"{warmed} functions of the stages warm ({time.monotonic() - began:.1f}s after the stages began)")
    if rest is not None:
        say(f"REST stage {REST_STAGE} deployed ({time.monotonic() - began:.1f}s after the stages began)")
    os.environ[PROVISIONED] = "1"
    os.environ[STAGES_PROVISIONED] = ",".join(spec.name for spec in stages)
    return cloud
