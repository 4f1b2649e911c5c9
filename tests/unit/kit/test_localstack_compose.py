"""What `make up` and `make down` make of docker compose's answers on the LocalStack path, fed
with the text Compose and LocalStack print (no Docker engine needed): the exit code in both
`ps --format json` layouts, the licence message with the log's tail, the socket, and `down`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bootstrap.config import KitError
from bootstrap.engines import localstack

LOCALSTACK_EXITED = {
    "ID": "3f2a9c",
    "Name": "rimac-appointments-localstack-1",
    "Project": "rimac-appointments",
    "Service": "localstack",
    "State": "exited",
    "Status": "Exited (55) 3 seconds ago",
    "Health": "",
    "ExitCode": 55,
    "Publishers": [],
}
MYSQL_RUNNING = {**LOCALSTACK_EXITED, "Name": "rimac-appointments-mysql-1", "Service": "mysql"} | {
    "State": "running",
    "Status": "Up 4 seconds (healthy)",
    "ExitCode": 0,
}
# What LocalStack prints before it exits with 55 (shortened).
LICENCE_LOG = """
LocalStack version: 2026.3.0
LocalStack build date: 2026-03-23

Localstack returning with exit code 55. Reason:
===============================================
The license activation failed for the following reason:

No credentials were found in the environment.
"""


@pytest.mark.parametrize(
    "listing",
    [
        json.dumps([MYSQL_RUNNING, LOCALSTACK_EXITED]),  # older Compose: one JSON array
        f"{json.dumps(MYSQL_RUNNING)}\n{json.dumps(LOCALSTACK_EXITED)}\n",  # newer: one object a line
        json.dumps(LOCALSTACK_EXITED),  # newer, asked for the one service
    ],
    ids=["array", "lines", "one-object"],
)
def test_the_exit_code_is_read_from_either_ps_layout(listing: str) -> None:
    assert localstack.exit_code_from_ps(listing) == 55


def test_a_running_or_absent_container_has_no_exit_code() -> None:
    running = {**LOCALSTACK_EXITED, "State": "running", "ExitCode": 0}

    assert localstack.exit_code_from_ps(json.dumps(running)) is None
    assert localstack.exit_code_from_ps(json.dumps([MYSQL_RUNNING])) is None
    assert localstack.exit_code_from_ps("") is None
    assert localstack.exit_code_from_ps("[]") is None
    assert localstack.exit_code_from_ps("WARN[0000] a notice\n" + json.dumps(LOCALSTACK_EXITED)) == 55


def test_the_exit_code_is_read_from_ups_own_report_when_ps_has_nothing() -> None:
    output = "container rimac-appointments-localstack-1 exited (55)\n"

    assert localstack.exit_code_from_compose_output(output) == 55
    assert localstack.exit_code_from_compose_output("container rimac-appointments-mysql-1 exited (1)") is None
    assert localstack.exit_code_from_compose_output("") is None


def test_exit_code_55_names_every_licence_failure_then_shows_the_logs_tail() -> None:
    message = localstack.exit_message(55, LICENCE_LOG)
    headline, *rest = message.splitlines()

    assert headline.startswith("LocalStack exited with code 55, a licence activation failure")
    for cause in ("missing or invalid", "no licence is assigned", "licence server"):
        assert cause in headline
    assert "make up ENGINE=ministack" in headline
    assert rest[0] == "  last lines of `docker compose logs localstack`:"
    assert rest[-1] == "  | No credentials were found in the environment."
    assert all(line.startswith("  | ") for line in rest[1:])


def test_the_logs_tail_is_bounded_and_other_failures_say_where_to_look() -> None:
    long_log = "\n".join(f"line {n}" for n in range(100))

    tail = localstack.exit_message(1, long_log).splitlines()[2:]
    assert tail == [f"  | line {n}" for n in range(100 - localstack.LOG_TAIL_LINES, 100)]
    assert localstack.exit_message(1) == "LocalStack exited with code 1; see: docker compose logs localstack"
    assert "did not become healthy" in localstack.exit_message(None)


class FakeCompose:
    """Answers `docker compose` subcommands with canned output, recording what was asked."""

    def __init__(self, answers: dict[str, tuple[int, str, str]]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, ...]] = []

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        self.asked.append(args)
        code, out, err = self.answers.get(args[0], (0, "", ""))
        return subprocess.CompletedProcess(["docker", "compose", *args], code, out, err)


def test_a_failed_start_reports_the_exit_code_and_the_log_read_before_teardown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compose = FakeCompose({"ps": (0, json.dumps([LOCALSTACK_EXITED]), ""), "logs": (0, LICENCE_LOG, "")})
    monkeypatch.setattr(localstack, "_compose", compose)

    message = localstack.start_failure("")

    assert message.startswith("LocalStack exited with code 55")
    assert message.endswith("No credentials were found in the environment.")
    assert [args[0] for args in compose.asked] == ["ps", "logs"]


def test_a_failed_start_falls_back_on_ups_report_when_the_container_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(localstack, "_compose", FakeCompose({"ps": (0, "[]", "")}))

    message = localstack.start_failure("container rimac-appointments-localstack-1 exited (55)")

    assert message.startswith("LocalStack exited with code 55")


@pytest.mark.parametrize(
    ("environ", "socket"),
    [
        ({}, "/var/run/docker.sock"),
        ({"DOCKER_HOST": "unix:///run/user/1000/docker.sock"}, "/run/user/1000/docker.sock"),
        ({"DOCKER_HOST": "unix:///run/user/1000/podman/podman.sock"}, "/run/user/1000/podman/podman.sock"),
        ({"DOCKER_HOST": "tcp://127.0.0.1:2375"}, "/var/run/docker.sock"),
        ({"DOCKER_SOCK": "/srv/docker.sock", "DOCKER_HOST": "unix:///other.sock"}, "/srv/docker.sock"),
    ],
)
def test_the_socket_given_to_localstack_follows_docker_sock_then_docker_host(
    environ: dict[str, str], socket: str
) -> None:
    assert localstack.docker_socket(environ) == socket


def test_compose_runs_with_the_token_and_the_socket() -> None:
    env = localstack.compose_environment({"PATH": "/usr/bin", "DOCKER_HOST": "unix:///run/d.sock"}, "tok")

    assert env == {
        "PATH": "/usr/bin",
        "DOCKER_HOST": "unix:///run/d.sock",
        "LOCALSTACK_AUTH_TOKEN": "tok",
        "DOCKER_SOCK": "/run/d.sock",
    }


def test_down_removes_volumes_and_orphans_and_forgets_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localstack, "COMPOSE_MARKER", tmp_path / "compose-started")
    localstack.COMPOSE_MARKER.touch()
    compose = FakeCompose({})
    monkeypatch.setattr(localstack, "_compose", compose)

    assert localstack.stop() is True

    assert compose.asked == [("down", "--volumes", "--remove-orphans")]
    assert not localstack.COMPOSE_MARKER.exists()
    assert localstack.stop() is False  # not started by `make up`: nothing asked
    assert len(compose.asked) == 1


def test_a_failed_down_is_reported_and_the_project_stays_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(localstack, "COMPOSE_MARKER", tmp_path / "compose-started")
    localstack.COMPOSE_MARKER.touch()
    refused = "error while removing network: network rimac-appointments has active endpoints"
    monkeypatch.setattr(localstack, "_compose", FakeCompose({"down": (1, "", refused)}))

    with pytest.raises(
        KitError, match=r"docker compose down failed .*active endpoints.*network=rimac-appointments"
    ):
        localstack.stop()

    assert localstack.COMPOSE_MARKER.exists()  # a later `make down` tries again
