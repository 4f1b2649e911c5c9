"""The session provisions the stages of the tests it may run, and only those: each stage names the
test module that uses it, and that module names the stage."""

from __future__ import annotations

import pytest

from tests.support.session_cloud import TESTS, stages_for
from tests.support.stages import SHARED_STAGES, STAGES, StageSpec


@pytest.mark.parametrize("spec", STAGES.values(), ids=lambda spec: spec.name)
def test_each_stage_names_a_test_module_that_uses_it(spec: StageSpec) -> None:
    module = TESTS / spec.test
    assert module.is_file()
    name = spec.name.rsplit("-", 1)[0] + "-{n}" if spec.name.startswith("t-settings-") else spec.name
    assert f'"{name}"' in module.read_text()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {spec.name for spec in SHARED_STAGES}),  # the whole suite
        (["-n", "4", "tests"], {spec.name for spec in SHARED_STAGES}),
        (["tests/e2e"], {"t-keys", "t-reload"}),
        (["tests/faults/test_seams.py"], {"t-seams", "t-settings-1", "t-settings-2", "t-settings-3"}),
        (["tests/faults/test_mysql_outage.py::test_x"], {"t-outage-short", "t-outage-long"}),
        (["tests/faults/test_no_secrets_in_logs.py"], set()),  # the audit reads, it breaks nothing
        (["tests/integration"], set()),
    ],
)
def test_a_run_provisions_the_stages_of_the_tests_it_may_hold(args: list[str], expected: set[str]) -> None:
    assert {spec.name for spec in stages_for(args)} == expected


def test_the_restart_stage_is_not_a_shared_one() -> None:
    assert "t-restart" not in {spec.name for spec in SHARED_STAGES}
