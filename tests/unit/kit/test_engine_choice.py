"""Which engine `make up` and the tests use, and what they say when LocalStack cannot start."""

from __future__ import annotations

from pathlib import Path

import pytest

from bootstrap.config import KitConfig, KitError
from bootstrap.engines import localstack
from bootstrap.engines.choice import EngineChoice, choose_engine
from tests.support.fixture_plan import FixturePlan, plan_test_stack


def docker(answers: bool) -> object:
    return lambda: answers


@pytest.mark.parametrize(
    ("requested", "docker_answers", "engine"),
    [
        (None, True, "localstack"),
        (None, False, "ministack"),
        ("ministack", True, "ministack"),
        ("localstack", False, "localstack"),
    ],
)
def test_the_engine_follows_the_request_else_whether_docker_answers(
    requested: str | None, docker_answers: bool, engine: str
) -> None:
    choice = choose_engine(requested, lambda: docker_answers)

    assert choice.engine == engine
    assert choice.reason  # `make up` prints why


def test_an_explicit_choice_does_not_even_ask_docker() -> None:
    def no_docker_call() -> bool:
        raise AssertionError("docker was asked")

    assert choose_engine("ministack", no_docker_call).reason == "ENGINE=ministack was asked for"


def test_an_unknown_engine_is_refused_by_name() -> None:
    with pytest.raises(KitError, match="ENGINE must be one of ministack, localstack, not 'moto'"):
        choose_engine("moto", lambda: True)


@pytest.mark.parametrize(
    ("engine", "running", "plan"),
    [
        ("localstack", False, FixturePlan.COMPOSE),
        ("localstack", True, FixturePlan.REUSE),
        ("ministack", False, FixturePlan.MINISTACK),
        ("ministack", True, FixturePlan.REUSE),
    ],
)
def test_the_test_fixture_reuses_a_running_stack_or_starts_the_chosen_engine(
    engine: str, running: bool, plan: FixturePlan
) -> None:
    assert plan_test_stack(EngineChoice(engine, "because"), running) is plan


def test_localstack_settings_follow_the_compose_file() -> None:
    config = KitConfig.from_env({}, engine="localstack")

    assert (config.mysql_host, config.mysql_port) == ("127.0.0.1", 3307)
    assert (config.lambda_mysql_host, config.lambda_mysql_port) == ("mysql", 3306)
    assert config.api_flavour == "rest"
    assert KitConfig.from_env({"API_FLAVOUR": "http"}, engine="localstack").api_flavour == "http"


def test_ministack_settings_are_the_machines_mysql_and_the_http_api() -> None:
    config = KitConfig.from_env({}, engine="ministack")

    assert (config.mysql_port, config.lambda_mysql_host, config.api_flavour) == (3306, "127.0.0.1", "http")


def test_the_token_comes_from_the_environment_before_the_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# local\nLOCALSTACK_AUTH_TOKEN='from-file'\n")

    assert localstack.auth_token({"LOCALSTACK_AUTH_TOKEN": "from-env"}, dotenv) == "from-env"
    assert localstack.auth_token({}, dotenv) == "from-file"


def test_a_missing_token_is_one_line_with_both_ways_out(tmp_path: Path) -> None:
    with pytest.raises(KitError) as raised:
        localstack.auth_token({}, tmp_path / "absent.env")

    message = str(raised.value)
    assert message.startswith("LOCALSTACK_AUTH_TOKEN is not set")
    assert "app.localstack.cloud" in message
    assert "make up ENGINE=ministack" in message
    assert "\n" not in message
