"""Shared fixtures. The test level is the folder under tests/: tests/unit (functions/ and kit/ in
it), tests/integration, tests/e2e, tests/faults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from bootstrap import engine, kit, localstack
from bootstrap.config import COMPOSE_FILE, ROOT, KitConfig
from bootstrap.engine_choice import EngineChoice
from bootstrap.progress import Progress
from bootstrap.stack_queries import admin_connection
from tests.support.deadlines import Deadlines, deadlines_for
from tests.support.fixture_plan import FixturePlan, plan_test_stack
from tests.support.one_at_a_time import in_xdist_worker, one_at_a_time

LEVELS = ("unit", "integration", "e2e", "faults")
TESTS = Path(__file__).resolve().parent


def level_of(path: Path) -> str | None:
    """The first folder under tests/ that holds the file: tests/unit/kit/test_names.py is unit."""
    resolved = path.resolve()
    if not resolved.is_relative_to(TESTS):
        return None
    parts = resolved.relative_to(TESTS).parts
    return parts[0] if len(parts) > 1 and parts[0] in LEVELS else None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if level := level_of(Path(item.path)):
            item.add_marker(level)


@pytest.fixture(scope="session")
def resolved() -> tuple[KitConfig, EngineChoice]:
    return kit.resolve()


@pytest.fixture(scope="session")
def kit_config(resolved: tuple[KitConfig, EngineChoice]) -> KitConfig:
    return resolved[0]


@pytest.fixture(scope="session")
def stack(resolved: tuple[KitConfig, EngineChoice]) -> Iterator[kit.Stack]:
    """The provisioned stack. A running one is reused as it is. Otherwise, with Docker, LocalStack
    and MySQL come up through testcontainers (torn down after); without, ministack is started
    here and stopped after. Under pytest-xdist the workers share one stack: each brings it up to
    date in turn (a no-op once it is), and none stops it, since the others still use it."""
    config, choice = resolved
    if in_xdist_worker():
        with one_at_a_time("stack"):
            shared = kit.up(config, Progress(quiet=True), reason=choice.reason)
        yield shared
        return
    running = localstack.is_ready(config) if config.engine == "localstack" else engine.is_ready(config)
    plan = plan_test_stack(choice, running)
    print(f"\ntest stack: {plan} ({choice.reason})")
    if plan is FixturePlan.COMPOSE:
        token = localstack.auth_token(dict(os.environ))  # one clear line instead of a compose error
        from subprocess import CalledProcessError

        from testcontainers.compose import DockerCompose

        from bootstrap.config import with_dotenv

        compose = DockerCompose(ROOT, compose_file_name=COMPOSE_FILE.name, services=list(localstack.SERVICES))
        with pytest.MonkeyPatch.context() as patch:  # Compose runs with what `make up` gives it
            patch.setenv("LOCALSTACK_AUTH_TOKEN", token)
            patch.setenv("DOCKER_SOCK", localstack.docker_socket(with_dotenv(os.environ)))
            try:  # not `with compose`: a failed start would be torn down before it could be read
                compose.start()
            except CalledProcessError as failed:
                message = localstack.start_failure(localstack.failed_command_output(failed))
                compose.stop()
                pytest.exit(message, returncode=1)
            try:
                yield kit.up(config, Progress(), reason=choice.reason)
            finally:
                compose.stop()
        return
    deployed = kit.up(config, Progress(), reason=choice.reason)
    yield deployed
    if deployed.engine_started:
        engine.stop()


@pytest.fixture(scope="session")
def deadlines(kit_config: KitConfig) -> Deadlines:
    """How long the flow may take on the engine the tests run on."""
    return deadlines_for(kit_config.engine)


@pytest.fixture
def mysql_admin(kit_config: KitConfig) -> Iterator[pymysql.connections.Connection]:
    with admin_connection(kit_config, autocommit=True) as connection:
        yield connection
