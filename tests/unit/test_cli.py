"""`python -m bootstrap`: only the commands that run on a local engine choose one (and so may ask
Docker), and an AWS error names what answered: AWS, the deploy's endpoint, or the local engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from bootstrap import build, deploy, kit, observe
from bootstrap.__main__ import main
from bootstrap.config import ROOT, KitConfig, StackConfig


@pytest.fixture
def docker_asked(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Records each time the kit asks whether Docker answers (and answers no)."""
    asked: list[bool] = []

    def answers() -> bool:
        asked.append(True)
        return False

    monkeypatch.delenv("ENGINE", raising=False)
    monkeypatch.setattr(kit, "docker_answers", answers)
    return asked


def unreachable(config: StackConfig, *_: Any) -> Any:
    raise EndpointConnectionError(endpoint_url=config.endpoint or "https://cloudformation.amazonaws.com")


def test_build_chooses_no_engine(monkeypatch: pytest.MonkeyPatch, docker_asked: list[bool]) -> None:
    monkeypatch.setattr(build, "build", lambda *_: [])

    assert main(["build"]) == 0
    assert docker_asked == []


@pytest.mark.parametrize(
    ("where", "said"),
    [
        (["--region", "eu-west-1"], "AWS eu-west-1"),
        (["--endpoint", "http://127.0.0.1:4599"], "the engine at http://127.0.0.1:4599"),
    ],
    ids=["aws", "endpoint"],
)
def test_a_deploy_chooses_no_engine_and_its_error_names_where_it_deployed(
    where: list[str],
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    docker_asked: list[bool],
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(deploy, "deploy", unreachable)

    assert main(["deploy", "--stage", "dev", "--bucket", "b", *where]) == 1
    assert capsys.readouterr().err.startswith(f"error: {said} answered: ")
    assert docker_asked == []


def test_a_command_on_the_local_stack_chooses_the_engine_and_names_it_in_its_error(
    monkeypatch: pytest.MonkeyPatch, docker_asked: list[bool], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENGINE_PORT", "4598")
    monkeypatch.delenv("ENGINE_URL", raising=False)
    monkeypatch.setattr(observe, "status", unreachable)

    assert main(["status"]) == 1
    assert capsys.readouterr().err.startswith("error: the engine at http://127.0.0.1:4598 answered: ")
    assert docker_asked == [True]


def test_the_local_kit_adds_its_engine_and_mysql_to_what_a_deploy_needs() -> None:
    on_aws, local = StackConfig(region="eu-west-1"), KitConfig.from_env({"ENGINE_PORT": "4567"})

    assert (on_aws.endpoint, on_aws.where) == (None, "AWS eu-west-1")
    assert (local.endpoint, local.where) == ("http://127.0.0.1:4567", "the engine at http://127.0.0.1:4567")
    assert set(vars(local)) - set(vars(on_aws)) == {
        "engine",
        "engine_port",
        "public_engine_url",
        "persist",
        "mysql_host",
        "mysql_port",
        "mysql_user",
        "mysql_password",
        "lambda_mysql_host",
        "lambda_mysql_port",
    }


def run_make(*args: str) -> subprocess.CompletedProcess[str]:
    """A target as a user runs it, with this interpreter and without remaking the virtualenv."""
    command = ["make", "--no-print-directory", "-o", ".venv/.installed", f"PY={sys.executable}", *args]
    return subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def hostile_values(marker: Path) -> list[str]:
    """Ways out of a quoted shell word and of make's own expansion, each creating `marker`."""
    return [
        f'x"; touch {marker}; echo "',
        f"x'; touch {marker}; echo '",
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"$(shell touch {marker})",
        f"x; touch {marker}",
    ]


def test_make_trace_runs_nothing_from_the_id_and_says_in_one_line_it_is_not_an_id(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for hostile in hostile_values(marker):
        result = run_make("trace", f"ID={hostile}")

        assert not marker.exists(), hostile
        assert result.returncode != 0
        [line] = result.stderr.strip().splitlines()[:1]
        assert "is not an appointment id" in line, result.stderr


def test_make_redrive_runs_nothing_from_the_queue_names(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    for hostile in hostile_values(marker):
        result = run_make("redrive", f"QUEUES=pe {hostile}")

        assert not marker.exists(), hostile
        assert result.returncode != 0
        assert "invalid choice" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "given",
    [
        "",
        "01ARZ3NDEKTSV4RRFFQ69G5FA",
        "01ARZ3NDEKTSV4RRFFQ69G5FAVX",
        "01arz3ndektsv4rrffq69g5fav",
        "01ARZ3NDEKTSV4RRFFQ69G5FA\n",
        "01ARZ3NDEKTSV4RRFFQ69G5FAU",
    ],
)
def test_trace_refuses_what_is_not_an_appointment_id_before_choosing_an_engine(
    given: str, docker_asked: list[bool], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trace", given]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ")
    assert error.count("\n") == 1
    assert "is not an appointment id" in error
    assert docker_asked == []


def test_a_new_appointment_id_has_the_shape_trace_accepts() -> None:
    from appointments.services import new_appointment_id

    ids = [new_appointment_id() for _ in range(200)]

    assert [observe.check_appointment_id(i) for i in ids] == ids


@pytest.mark.parametrize("given", [[], ["--rest-api-logs-role", "existing"]])
def test_a_deploy_sets_the_account_logs_role_unless_told_the_account_has_one(given: list[str]) -> None:
    from bootstrap.__main__ import deploy_config, parser
    from bootstrap.provision import stack_parameters

    args = parser().parse_args(
        ["deploy", "--stage", "dev", "--api-flavour", "rest", "--region", "eu-west-1", *given]
    )
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack_parameters(deploy_config(args), [])}

    assert parameters["RestApiLogsRole"] == ("existing" if given else "create")
