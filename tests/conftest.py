"""Shared fixtures. The test level is the folder under tests/: tests/unit (functions/ and kit/ in
it), tests/integration, tests/e2e, tests/faults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from bootstrap.config import LOCAL_API_KEY, KitConfig, KitError
from bootstrap.dev import kit
from bootstrap.engines.choice import EngineChoice
from bootstrap.progress import Progress
from bootstrap.stack.queries import admin_connection, stack_outputs
from tests.support import longest_first, xdist_groups
from tests.support.browser import BrowserProcess
from tests.support.deadlines import Deadlines, deadlines_for
from tests.support.one_at_a_time import in_xdist_worker, one_at_a_time
from tests.support.own_engine import wait_ready
from tests.support.session_cloud import (
    E2E_TESTS,
    KEY_WRITERS,
    PROVISIONED,
    RESTART_TEST,
    STAGES_PROVISIONED,
    SessionCloud,
    bring_up,
    may_hold,
    needs_the_cloud,
    stages_for,
)
from tests.support.stages import OWN_ENGINE_STAGE, STAGES, OwnStage, kit_zips, provision_stage
from tests.support.written_secrets import forget_written

CLOUD = pytest.StashKey[SessionCloud]()

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


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(xdist_groups, "rimac-xdist-groups")
    config.pluginmanager.register(longest_first, "rimac-longest-first")


@pytest.fixture(scope="session")
def resolved() -> tuple[KitConfig, EngineChoice]:
    return kit.resolve()


@pytest.fixture(scope="session")
def kit_config(resolved: tuple[KitConfig, EngineChoice]) -> KitConfig:
    return resolved[0]


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before the workers start, and once: the kit's stack, the test stages, the restart test's
    engine (in the background). A run of tests/unit alone brings up nothing."""
    if in_xdist_worker() or not needs_the_cloud(list(session.config.args)):
        return
    config, choice = kit.resolve()
    try:
        args = list(session.config.args)
        if may_hold(args, KEY_WRITERS):
            forget_written()  # the keys this session's tests write are the ones its audit looks for
        cloud = bring_up(
            config,
            choice,
            print,
            own=may_hold(args, RESTART_TEST),
            rest_stage=may_hold(args, E2E_TESTS),
            stages=stages_for(args),
        )
    except KitError as error:
        pytest.exit(f"the test stack did not come up: {error}", returncode=1)
    session.config.stash[CLOUD] = cloud


def pytest_sessionfinish(session: pytest.Session) -> None:
    cloud = session.config.stash.get(CLOUD, None)
    if cloud is not None:
        cloud.close()


@pytest.fixture(scope="session")
def stack(resolved: tuple[KitConfig, EngineChoice]) -> kit.Stack:
    """The stack `make up` provisions, as the session brought it up before the tests started.
    A session that did not (tests/unit given, then a test of another level) brings it up here,
    one worker at a time."""
    config, choice = resolved
    if os.environ.get(PROVISIONED) != "1":
        with one_at_a_time("stack"):
            kit.up(config, Progress(quiet=True), reason=choice.reason)
    return kit.Stack.of(config, stack_outputs(config), LOCAL_API_KEY.read_text().strip())


@pytest.fixture
def stage(request: pytest.FixtureRequest, kit_config: KitConfig, stack: kit.Stack) -> OwnStage:
    """The stage the test's `stage` mark names, provisioned before the session's tests began."""
    marker = request.node.get_closest_marker("stage")
    if marker is None:
        raise pytest.UsageError(f"{request.node.nodeid} asks for a stage without a `stage` mark")
    spec = STAGES[marker.args[0]]
    if spec.name == OWN_ENGINE_STAGE:
        if kit_config.engine != "ministack":
            pytest.skip("an engine of its own is the Docker-free engine's (LocalStack runs in compose)")
        wait_ready()
    elif spec.name not in (provisioned := os.environ.get(STAGES_PROVISIONED, "").split(",")):
        with one_at_a_time(f"stage {spec.name}"):  # the session did not: this worker does, once
            provision_stage(kit_config, spec, kit_zips(kit_config))
        os.environ[STAGES_PROVISIONED] = ",".join([*provisioned, spec.name])
    return OwnStage.of(kit_config, spec)


@pytest.fixture(scope="session")
def browser_process() -> Iterator[BrowserProcess]:
    """One headless Chromium per worker, started when a test first asks for it."""
    with BrowserProcess.kept() as process:
        yield process


@pytest.fixture
def browser(browser_process: BrowserProcess) -> WebDriver:
    """A headless Chromium (tests/support/browser.py), on a blank page with no cookies, as a new
    one starts: skipped without one, failed on CI."""
    return browser_process.fresh()


@pytest.fixture(scope="session")
def deadlines(kit_config: KitConfig) -> Deadlines:
    """How long the flow may take on the engine the tests run on."""
    return deadlines_for(kit_config.engine)


@pytest.fixture
def mysql_admin(kit_config: KitConfig) -> Iterator[pymysql.connections.Connection]:
    with admin_connection(kit_config, autocommit=True) as connection:
        yield connection
