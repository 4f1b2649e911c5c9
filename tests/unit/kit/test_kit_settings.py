"""The local kit's settings as a user with Docker and a token gives them, and what `make up` and
`make down` print from them: one configuration for docker compose and the kit (the environment
over .env, the compose file's names standing in for the kit's), the URLs printed for the host,
the build's note when no bytecode ships, the region every command takes, and the failure line
the tests' testcontainers fixture shares with `make up`."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from bootstrap import config, names, packaging
from bootstrap.__main__ import main
from bootstrap.config import STATE_DIR, KitConfig, StackConfig
from bootstrap.dev import kit
from bootstrap.engines import localstack, ministack
from bootstrap.progress import Progress
from bootstrap.stack import deploy

# The REST stage's outputs, as the kit reads them from the stack.
OUTPUTS = {names.API_ID: "abc123", names.API_STAGE: "local"}
# What LocalStack prints before it exits with 55 (shortened).
LICENCE_LOG = (
    "Localstack returning with exit code 55. Reason:\nNo credentials were found in the environment.\n"
)


def dotenv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text)
    return path


def test_the_environment_wins_over_dotenv_and_dotenv_fills_in_the_rest(tmp_path: Path) -> None:
    file = dotenv(tmp_path, "# mine\nAPI_FLAVOUR=http\nENGINE_PORT='4570'\n")

    assert config.with_dotenv({"API_FLAVOUR": "rest"}, file) == {"API_FLAVOUR": "rest", "ENGINE_PORT": "4570"}
    assert config.with_dotenv({"STAGE": "dev"}, tmp_path / "absent.env") == {"STAGE": "dev"}


def test_on_localstack_the_compose_files_names_give_mysqls_port_and_password() -> None:
    compose_names = {"COMPOSE_MYSQL_PORT": "3308", "MYSQL_ROOT_PASSWORD": "s3cret"}

    on_localstack = KitConfig.from_env(compose_names, engine="localstack")
    assert (on_localstack.mysql_port, on_localstack.mysql_password) == (3308, "s3cret")
    assert on_localstack.lambda_mysql_port == 3306  # the functions reach MySQL inside the network

    kits_own = KitConfig.from_env({**compose_names, "MYSQL_PORT": "3309"}, engine="localstack")
    assert (kits_own.mysql_port, kits_own.mysql_password) == (3309, "s3cret")

    # The machine's MySQL is not the compose file's.
    on_ministack = KitConfig.from_env(compose_names, engine="ministack")
    assert (on_ministack.mysql_port, on_ministack.mysql_password) == (3306, "")


def test_the_kit_reads_dotenv_as_compose_does_under_the_environment(tmp_path: Path) -> None:
    file = dotenv(
        tmp_path, "COMPOSE_MYSQL_PORT=3308\nMYSQL_ROOT_PASSWORD=s3cret\nAPI_FLAVOUR=http\nSTAGE=mine\n"
    )

    settings, choice = kit.resolve({"ENGINE": "localstack", "STAGE": "yours"}, file)

    assert choice.engine == "localstack"
    assert (settings.mysql_port, settings.mysql_password) == (3308, "s3cret")
    assert (settings.api_flavour, settings.stage) == ("http", "yours")


def test_settings_built_from_a_given_environment_never_read_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dotenv(*_: Any) -> dict[str, str]:
        raise AssertionError(".env was read")

    monkeypatch.setattr(config, "read_dotenv", no_dotenv)

    assert KitConfig.from_env({}, engine="localstack").mysql_port == 3307


def test_compose_is_started_with_dotenv_under_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    given: list[dict[str, str]] = []
    monkeypatch.setattr(
        config, "read_dotenv", lambda *_: {"DOCKER_SOCK": "/srv/docker.sock", "STAGE": "file"}
    )
    monkeypatch.setenv("STAGE", "environment")
    monkeypatch.setattr(localstack, "start", lambda settings, environ: given.append(environ) or True)

    kit.start_engine(KitConfig(engine="localstack"), Progress(quiet=True))

    # compose_environment keeps a DOCKER_SOCK it is given rather than derive one.
    assert (given[0]["DOCKER_SOCK"], given[0]["STAGE"]) == ("/srv/docker.sock", "environment")


def in_the_provision_container() -> KitConfig:
    return KitConfig.from_env(
        {"ENGINE_URL": "http://localstack:4566", "PUBLIC_ENGINE_URL": "http://127.0.0.1:4567"},
        engine="localstack",
    )


def test_the_api_url_printed_for_the_user_is_the_one_the_host_reaches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = in_the_provision_container()
    stack = kit.Stack(
        outputs=OUTPUTS,
        api_url=settings.api_url(OUTPUTS),
        public_api_url=settings.public_api_url(OUTPUTS),
        api_key="k3y",
        engine_started=True,
    )

    kit.print_usage(stack)

    printed = capsys.readouterr().out
    assert stack.api_url == "http://localstack:4566/_aws/execute-api/abc123/local"
    assert "localstack:4566" not in printed
    public = "http://127.0.0.1:4567/_aws/execute-api/abc123/local"
    assert f"API:     {public}\n" in printed
    assert f"Docs:    {public}/docs" in printed
    curls = [line for line in printed.splitlines() if line.strip().startswith("curl")]
    assert curls
    assert all(f" {public}/appointments" in line for line in curls)


def test_make_up_prints_where_the_key_is_and_curls_that_read_it_never_the_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = "k3y-" + "x" * 28
    stack = kit.Stack(OUTPUTS, "http://a/local", "http://a/local", api_key=key, engine_started=False)

    kit.print_usage(stack)

    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert not [line for line in lines if key in line]
    assert "API key: in .local/api-key  (header x-api-key)" in lines
    curls = [i for i, line in enumerate(lines) if line.startswith("curl")]
    assert len(curls) == len(names.COUNTRIES) + 1
    assert lines.index("KEY=$(cat .local/api-key)") < curls[0]
    assert all('-H "x-api-key: $KEY"' in lines[i] for i in curls)


def test_without_a_public_url_the_host_reaches_the_engine_where_the_kit_does() -> None:
    settings = KitConfig.from_env({"ENGINE_PORT": "4567"}, engine="localstack")

    assert settings.public_endpoint == settings.endpoint == "http://127.0.0.1:4567"
    assert settings.public_api_url(OUTPUTS) == settings.api_url(OUTPUTS)
    assert in_the_provision_container().public_endpoint == "http://127.0.0.1:4567"


@pytest.mark.parametrize(
    ("host", "note"),
    [
        (packaging.Host("Darwin", "arm64", "", "cpython-312"), "no bytecode: Darwin arm64 cannot load"),
        (
            packaging.Host("Linux", "aarch64", "glibc", "cpython-312"),
            "no bytecode: Linux aarch64 (glibc) cannot",
        ),
        (
            packaging.Host("Linux", "x86_64", "glibc", "cpython-313"),
            "no bytecode: the build runs cpython-313",
        ),
        (packaging.Host("Linux", "x86_64", "glibc", "cpython-312"), None),
    ],
    ids=["mac", "arm-linux", "other-python", "aws-like"],
)
def test_the_build_step_says_when_its_zips_carry_no_bytecode(
    host: packaging.Host,
    note: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    zip_path = tmp_path / "http.zip"
    zip_path.write_bytes(b"0" * 2_000_000)
    monkeypatch.setattr(packaging, "build", lambda target: [packaging.BuiltZip("http", zip_path, "0" * 64)])
    monkeypatch.setattr(packaging.Host, "this_one", classmethod(lambda cls: host))

    kit.packaging_zips(packaging.AWS_TARGET, Progress())

    line = capsys.readouterr().out.strip()
    assert line.startswith("build")
    assert "http.zip 2.0 MB" in line
    if note is None:
        assert "bytecode" not in line
    else:
        assert note in line


def test_a_failed_start_reads_as_make_ups_line_whatever_ran_compose() -> None:
    # testcontainers runs `docker compose up --wait` for bytes, `make up` for text.
    as_bytes = subprocess.CalledProcessError(
        1, ["docker", "compose", "up"], b"", b"container rimac-appointments-localstack-1 exited (55)\n"
    )
    as_text = subprocess.CalledProcessError(
        1, ["docker", "compose", "up"], None, "container rimac-appointments-localstack-1 exited (55)\n"
    )

    for failed in (as_bytes, as_text):
        output = localstack.failed_command_output(failed)
        message = localstack.failure_message(output, "[]", LICENCE_LOG)  # the container is gone
        assert message == localstack.exit_message(55, LICENCE_LOG)
        assert message.startswith("LocalStack exited with code 55, a licence activation failure")
        assert message.endswith("  | No credentials were found in the environment.")


def test_a_failed_start_prefers_the_exit_code_compose_ps_reports() -> None:
    exited = '{"Service": "localstack", "State": "exited", "ExitCode": 1}'

    assert localstack.failure_message("", exited, "").startswith("LocalStack exited with code 1;")
    assert "did not become healthy" in localstack.failure_message("", "[]", "")


def test_down_says_what_docker_compose_down_removed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ministack, "stop", lambda: None)
    monkeypatch.setattr(ministack, "other_engines", list)  # never the engines a running session uses
    monkeypatch.setattr(localstack, "stop", lambda: True)

    assert main(["down"]) == 0
    assert capsys.readouterr().out == (
        "stopped LocalStack and MySQL (docker compose down: containers, network and MySQL's data removed)\n"
    )


def test_down_stops_an_engine_a_test_session_left_and_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    left = STATE_DIR / "test-engines" / "restart" / "engine.pid"
    stopped: list[Path] = []
    monkeypatch.setattr(ministack, "stop", lambda: None)
    monkeypatch.setattr(ministack, "other_engines", lambda: [left])
    monkeypatch.setattr(ministack, "stop_by_pid_file", lambda pid_file: stopped.append(pid_file) or 4321)
    monkeypatch.setattr(localstack, "stop", lambda: False)

    assert main(["down"]) == 0
    assert stopped == [left]
    assert capsys.readouterr().out == (
        "stopped the engine of test-engines/restart (pid 4321)\nno local engine started by `make up` is running\n"
    )


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[StackConfig]:
    """Records what a deploy was asked for; the AWS configuration names another region."""
    asked: list[StackConfig] = []
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[default]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "sa-east-1")
    monkeypatch.setattr(deploy, "deploy", lambda target, progress: asked.append(target) or {})
    return asked


def test_a_deploy_to_a_local_engine_goes_to_the_kits_region_not_the_aws_configurations(
    deployed: list[StackConfig],
) -> None:
    assert main(["deploy", "--stage", "e2e", "--bucket", "b", "--endpoint", "http://127.0.0.1:4566"]) == 0
    assert (
        main(
            ["deploy", "--stage", "e2e", "--bucket", "b", "--endpoint", "http://x", "--region", "ap-south-1"]
        )
        == 0
    )
    assert main(["deploy", "--stage", "dev", "--bucket", "b"]) == 0  # AWS itself: its configuration

    assert [target.region for target in deployed] == ["sa-east-1", "ap-south-1", "eu-west-1"]


def test_a_stacks_repr_never_shows_its_api_key() -> None:
    """pytest prints a failing test's fixtures: the stack's key must not be among what it prints."""
    stack = kit.Stack(
        {"ApiId": "abc"}, "http://127.0.0.1:4566/x", "http://127.0.0.1:4566/x", "the-secret-key"
    )
    assert "the-secret-key" not in repr(stack)
    assert stack.api_key == "the-secret-key"
