"""Every call a function makes is bounded, and its worst case fits inside the function's timeout
(the template's): the budgets in appointments/budgets.py against the template, the clients the
entry points really build, and a simulated hung dependency on a clock the test turns."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from appointments import budgets
from appointments.adapters.mysql import MySqlCountryUnitOfWork
from appointments.adapters.ssm import MySqlSettings
from appointments.budgets import AWS_CALLS, Deadline, DeadlineExceeded, aws_client
from bootstrap import names
from tests.support.entrypoints import entry_point
from tests.support.events import FakeContext
from tests.support.template import load_template


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def template_timeouts() -> dict[str, int]:
    """Each function's timeout, by its handler module; a timeout given by a parameter is the least
    that parameter allows (its MinValue), since the worst case must fit there too."""
    template = load_template()
    found: dict[str, int] = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            module = str(resource["Properties"]["Handler"]).rsplit(".", 1)[0]
            timeout = resource["Properties"]["Timeout"]
            if isinstance(timeout, dict):
                timeout = template["Parameters"][timeout["Ref"]]["MinValue"]
            found[module] = int(timeout)
    return found


ENVIRONMENTS = {
    "http": {
        "TABLE_NAME": "t",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:t",
        "IDEMPOTENCY_TABLE_NAME": "i",
        "API_KEY_PARAMETER": "/k",
    },
    "processor": {
        "COUNTRY_ISO": "PE",
        "DB_PARAMETERS_PATH": "/rimac/db/pe",
        "EVENT_BUS_NAME": "bus",
        "DB_TLS": "off",
    },
    "callback": {"TABLE_NAME": "t"},
    "reconciler": {
        "TABLE_NAME": "t",
        "SWEEP_TABLE_NAME": "s",
        "TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:t",
    },
}


# An operation of each service that needs no parameter, to try a client with.
LISTING = {
    "dynamodb": "list_tables",
    "sns": "list_topics",
    "events": "list_event_buses",
    "ssm": "describe_parameters",
}


# The entry points' loggers under a service name of their own: powertools configures a service's
# logger once, and other unit tests capture the default service's lines with a handler of theirs.
OWN_LOGGER = {"POWERTOOLS_SERVICE_NAME": "unit-budgets"}


def clients_of(name: str, module: ModuleType) -> list[Any]:
    """The AWS clients the entry point built at its cold start."""
    if name == "http":
        backend = module.api.backend
        return [
            backend.repository._client,
            backend.publisher._client,
            backend.api_key._read.__closure__[0].cell_contents.__self__.client,  # the SSM provider's
            module.idempotency_store().client,
        ]
    if name == "processor":
        return [module.events._client, module.uow._settings._provider.client]
    if name == "callback":
        return [module.repository._client]
    return [module.repository._client, module.publisher._client]


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_every_client_of_every_function_is_bounded_and_held_to_the_invocations_deadline(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = entry_point(name, monkeypatch, **ENVIRONMENTS[name], **OWN_LOGGER)
    clients = clients_of(name, module)

    for client in clients:
        config = client.meta.config
        assert (config.connect_timeout, config.read_timeout) == (AWS_CALLS.connect, AWS_CALLS.read)
        assert config.retries == {"mode": "standard", "total_max_attempts": AWS_CALLS.attempts}
    # With no time left, no request is even attempted: every client refuses at once.
    module.deadline.start(type("Ending", (), {"get_remaining_time_in_millis": lambda self: 0})())
    for client in clients:
        with pytest.raises(DeadlineExceeded):
            getattr(client, LISTING[client.meta.service_model.service_name])()


@pytest.mark.parametrize("name", sorted(ENVIRONMENTS))
def test_each_functions_worst_case_fits_inside_its_timeout(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    timeout = template_timeouts()[f"appointments.entrypoints.{name}"]
    keep = entry_point(name, monkeypatch, **ENVIRONMENTS[name], **OWN_LOGGER).deadline.keep
    longest_step = max(AWS_CALLS.attempt_seconds, budgets.MYSQL_CONNECT_SECONDS)

    # A step starts only if it can end by the deadline (timeout - keep); the sleep before a retry
    # may have begun just then, and the answer follows. That is the whole invocation's worst case.
    worst = timeout - keep + AWS_CALLS.backoff_seconds + budgets.ANSWER_SECONDS
    assert worst <= timeout
    # and the longest single step still fits in a fresh invocation, or the function could do nothing
    assert longest_step <= timeout - keep
    if name == "http":
        # the idempotency record's last write, held to the shorter keep, fits after the rest
        assert keep - budgets.KEEP_SECONDS >= AWS_CALLS.attempt_seconds


def hanging(client: Any, clock: FakeClock, calls: list[str]) -> None:
    """Every attempt the deadline lets through hangs until the read timeout."""

    def hang(event_name: str, **_: Any) -> None:
        calls.append(event_name)
        clock.now += AWS_CALLS.attempt_seconds
        raise ReadTimeoutError(endpoint_url="http://hung.invalid")

    client.meta.events.register("before-send", hang)


def test_calls_to_a_hung_service_end_by_the_deadline_retries_included(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "unit")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "unit")
    clock, attempts = FakeClock(), []
    # botocore sleeps before a retry: here the clock moves by the longest sleep instead
    monkeypatch.setattr(
        "botocore.endpoint.time.sleep", lambda seconds: setattr(clock, "now", clock.now + 1.0)
    )
    deadline = Deadline(keep=budgets.KEEP_SECONDS, clock=clock)
    client = aws_client("sns", deadline)
    hanging(client, clock, attempts)
    deadline.start(FakeContext())  # 10 s, as the template gives the queue consumers
    started = clock.now

    outcomes = []
    for _ in range(4):
        try:
            client.publish(TopicArn="arn:aws:sns:us-east-1:000000000000:t", Message="m")
        except (ReadTimeoutError, DeadlineExceeded) as error:
            outcomes.append(type(error).__name__)

    # 2 attempts (5 s and a 1 s sleep), then 1 attempt before the retry would overrun, then none
    assert outcomes == ["ReadTimeoutError", "DeadlineExceeded", "DeadlineExceeded", "DeadlineExceeded"]
    assert len(attempts) == 3
    assert clock.now - started <= 10 - budgets.KEEP_SECONDS + AWS_CALLS.backoff_seconds


def test_the_country_database_is_not_reached_for_when_its_timeouts_would_overrun_the_deadline() -> None:
    clock = FakeClock()
    deadline = Deadline(clock=clock)
    asked = []

    def settings() -> MySqlSettings:
        asked.append(True)
        return MySqlSettings("127.0.0.1", 3306, "u", "p", names.schema("PE"))

    settings.forget = lambda: None  # type: ignore[attr-defined]
    uow = MySqlCountryUnitOfWork(settings, deadline=deadline)  # type: ignore[arg-type]
    deadline.start(type("Ending", (), {"get_remaining_time_in_millis": lambda self: 3000})())

    with pytest.raises(DeadlineExceeded, match="MySQL connect"):
        uow.begin()
    assert asked == [True]  # the settings were read; no connection was tried (unit tests have no network)
