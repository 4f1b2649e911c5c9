"""`python -m bootstrap`: only the commands that run on a local engine choose one (and so may ask
Docker), and an AWS error names what answered: AWS, the deploy's endpoint, or the local engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from bootstrap import packaging
from bootstrap.__main__ import main
from bootstrap.config import ROOT, KitConfig, StackConfig
from bootstrap.dev import kit
from bootstrap.engines import awslocal
from bootstrap.ops import status, trace
from bootstrap.stack import deploy


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
    monkeypatch.setattr(packaging, "build", lambda *_: [])

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
    monkeypatch.setattr(status, "status", unreachable)

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
        "state_dir",
        "mysql_host",
        "mysql_port",
        "mysql_user",
        "mysql_password",
        "lambda_mysql_host",
        "lambda_mysql_port",
        "console_port",
    }


def run_make(*args: str, python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    """A target as a user runs it, with `python` as the kit's interpreter, without remaking the
    virtualenvs (nor, for `make bench`, bringing the stack up first)."""
    keep = [
        "-o",
        ".venv/.installed",
        "-o",
        ".engine-venv/.installed",
        *(["-o", "up"] if "up" not in args else []),
    ]
    command = ["make", "--no-print-directory", *keep, f"PY={python}", *args]
    # The user's own settings (an ENGINE_PORT exported in their shell, say) are not this test's.
    environment = {name: value for name, value in os.environ.items() if name not in UNSET_BY_THE_TESTS}
    return subprocess.run(
        command,
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


UNSET_BY_THE_TESTS = {"STAGE", "ENGINE_PORT", "MYSQL_PASSWORD", "ARGS"}


def hostile_values(marker: Path) -> list[str]:
    """Ways out of a quoted shell word and of make's own expansion, each creating `marker`."""
    return [
        f'x"; touch {marker}; echo "',
        f"x'; touch {marker}; echo '",
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"$(shell touch {marker})",
        f"$$(touch {marker})",
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


def recording_python(folder: Path) -> tuple[Path, Path]:
    """A stand-in for the kit's interpreter (make's PY) that writes the arguments and the
    environment it was started with to a log, one JSON line per start, and fails."""
    log, python = folder / "started.jsonl", folder / "python"
    python.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"with open({str(log)!r}, 'a') as log:\n"
        "    log.write(json.dumps({'argv': sys.argv[1:], 'env': dict(os.environ)}) + '\\n')\n"
        "sys.exit(3)\n"
    )
    python.chmod(0o700)
    return python, log


def started(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# Each target that takes a value from the user: every variable it reads, and the arguments its
# command is started with (once per command) when each holds `value`.
TARGETS: dict[str, tuple[list[str], Callable[[str], list[list[str]]]]] = {
    "deploy": (
        [
            "STAGE",
            "API_FLAVOUR",
            "DB_PARAMETERS_PREFIX",
            "SUBNET_IDS",
            "SECURITY_GROUP_ID",
            "BUCKET",
            "ENDPOINT",
            "DATABASE_TLS",
            "REST_API_LOGS_ROLE",
        ],
        lambda v: [
            [
                *["-m", "bootstrap", "deploy", "--stage", v, "--api-flavour", v, "--db-parameters-prefix", v],
                *["--subnet-ids", v, "--security-group-id", v, "--bucket", v, "--endpoint", v],
                *["--database-tls", v, "--rest-api-logs-role", v],
            ]
        ],
    ),
    "db-users": (
        [
            "DB_HOST",
            "DB_ADMIN_USER",
            "DB_PARAMETERS_PREFIX",
            "DB_PORT",
            "DB_USER_HOST",
            "FUNCTIONS_DB_HOST",
            "SSL_CA",
        ],
        lambda v: [
            [
                *["-m", "bootstrap", "db-users", "--host", v, "--admin-user", v, "--db-parameters-prefix", v],
                *["--port", v, "--user-host", v, "--functions-host", v, "--ssl-ca", v],
            ]
        ],
    ),
    "migrate": (
        ["DB_HOST", "DB_ADMIN_USER", "DB_PARAMETERS_PREFIX", "DB_PORT", "SSL_CA"],
        lambda v: [
            [
                *["-m", "bootstrap", "migrate", "--host", v, "--admin-user", v, "--db-parameters-prefix", v],
                *["--port", v, "--ssl-ca", v],
            ]
        ],
    ),
    "bench": (["COUNT", "CONCURRENCY"], lambda v: [["-m", "bench.flow", "--count", v, "--concurrency", v]]),
    "bench-backlog": (["COUNT", "SEED"], lambda v: [["-m", "bench.backlog", "--count", v, "--seed", v]]),
    "cost": (["APPOINTMENTS"], lambda v: [["-m", "bench.cost", "--appointments", v]]),
    "logs": (["JSON"], lambda v: [["-m", "bootstrap", "logs", "--json"]]),
    "awslocal": (
        ["ARGS", "ENGINE_PORT", "AWS_REGION"],
        lambda v: [["-m", "bootstrap.engines.awslocal", ".venv/bin/awslocal"]],
    ),
    "integration": (
        ["TEST_WORKERS"],
        lambda v: [["-m", "pytest", "-n", v, "--dist", "loadgroup", "tests/integration"]],
    ),
    "e2e": (
        ["TEST_WORKERS"],
        lambda v: [
            [
                "-m",
                "pytest",
                "-n",
                v,
                "--dist",
                "loadgroup",
                *["--durations=5", "tests/e2e"],
            ],
        ],
    ),
}


@pytest.mark.parametrize("target", sorted(TARGETS))
def test_a_target_hands_each_value_to_its_command_as_it_was_typed_and_runs_nothing_from_it(
    target: str, tmp_path: Path
) -> None:
    variables, expected = TARGETS[target]
    marker = tmp_path / "ran"
    python, log = recording_python(tmp_path)
    for hostile in hostile_values(marker):
        log.unlink(missing_ok=True)

        result = run_make(target, *(f"{name}={hostile}" for name in variables), python=str(python))

        assert not marker.exists(), hostile
        assert result.returncode != 0
        starts = started(log)
        assert [start["argv"] for start in starts] == expected(hostile), result.stderr
        assert {name: starts[0]["env"].get(name) for name in variables} == dict.fromkeys(variables, hostile)


# The Configuration table of README.md: read by the kit's Python from the environment.
CONFIGURATION = [
    "ENGINE",
    "ENGINE_PORT",
    "API_FLAVOUR",
    "MYSQL_HOST",
    "MYSQL_PORT",
    "MYSQL_USER",
    "MYSQL_PASSWORD",
    "LAMBDA_MYSQL_HOST",
    "LAMBDA_MYSQL_PORT",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "DOCKER_SOCK",
    "HOST_UID",
    "HOST_GID",
    "PUBLIC_ENGINE_URL",
    "STAGE",
    "DB_PARAMETERS_PREFIX",
    "API_KEY_PARAMETER",
    "PERSIST",
    "DB_ADMIN_PASSWORD",
    "QUEUE_VISIBILITY_TIMEOUT",
    "MAX_RECEIVE_COUNT",
    "COMPOSE_MYSQL_PORT",
    "MYSQL_ROOT_PASSWORD",
    "CONSOLE_PORT",
]


def test_a_setting_given_to_make_reaches_the_kit_as_typed_and_make_runs_nothing_from_it(
    tmp_path: Path,
) -> None:
    """make expands a command-line variable when it exports it, whatever the recipe: a password
    holding $(shell ...) ran it, and lost its $."""
    marker = tmp_path / "ran"
    python, log = recording_python(tmp_path)
    for hostile in hostile_values(marker):
        log.unlink(missing_ok=True)

        run_make("up", *(f"{name}={hostile}" for name in CONFIGURATION), python=str(python))

        assert not marker.exists(), hostile
        [start] = started(log)
        assert start["argv"] == ["-m", "bootstrap", "up"]
        assert {name: start["env"].get(name) for name in CONFIGURATION} == dict.fromkeys(
            CONFIGURATION, hostile
        )


def test_a_setting_not_given_stays_unset_for_the_kit(tmp_path: Path) -> None:
    python, log = recording_python(tmp_path)

    run_make("up", python=str(python))

    [start] = started(log)
    assert not UNSET_BY_THE_TESTS & set(start["env"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ("sqs list-queues", ["sqs", "list-queues"]),
        ('dynamodb scan --table-name "a b"', ["dynamodb", "scan", "--table-name", "a b"]),
        ('x"; touch ran; echo "', ["x; touch ran; echo "]),
        ("$(touch ran) `touch ran`", ["$(touch", "ran)", "`touch", "ran`"]),
        ("", []),
    ],
)
def test_awslocal_splits_args_into_words_as_a_shell_would_without_running_any(
    args: str, words: list[str]
) -> None:
    assert awslocal.arguments(args) == words


def test_awslocal_says_in_one_line_when_args_cannot_be_split() -> None:
    with pytest.raises(
        SystemExit, match=r"^error: ARGS cannot be split into arguments: No closing quotation$"
    ):
        awslocal.arguments("sqs 'list-queues")


def test_make_awslocal_runs_nothing_from_args_through_the_real_cli(tmp_path: Path) -> None:
    marker = tmp_path / "ran"

    result = run_make("awslocal", f'ARGS=x"; touch {marker}; echo "', "ENGINE_PORT=1")

    assert not marker.exists()
    assert result.returncode != 0
    assert "Invalid choice" in result.stderr or "invalid choice" in result.stderr, result.stderr


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

    assert [trace.check_appointment_id(i) for i in ids] == ids


@pytest.mark.parametrize("given", [[], ["--rest-api-logs-role", "existing"]])
def test_a_deploy_sets_the_account_logs_role_unless_told_the_account_has_one(given: list[str]) -> None:
    from bootstrap.__main__ import parser
    from bootstrap.arguments import deploy_config
    from bootstrap.stack.provision import stack_parameters

    args = parser().parse_args(
        ["deploy", "--stage", "dev", "--api-flavour", "rest", "--region", "eu-west-1", *given]
    )
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack_parameters(deploy_config(args), [])}

    assert parameters["RestApiLogsRole"] == ("existing" if given else "create")
