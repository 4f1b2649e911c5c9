"""`.ci/run`, what CI runs on a clean clone: a shell script that parses and runs the README's test
command on the Docker-free engine; it lets root in to the machine's MariaDB over TCP when only the
socket would, and stops when the browser test could not run. Its decisions are checked on a copy
of the script, run with stand-ins for every command it calls (no MySQL, apt or make is touched)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from bootstrap.config import ROOT

CI_RUN = ROOT / ".ci" / "run"


def readme_test_command() -> str:
    """The second of the README's "Two commands", as written there (its comment left out)."""
    section = (ROOT / "README.md").read_text().split("\n## Two commands\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert len(commands) == 2, commands
    return commands[1]


def test_the_ci_entry_point_parses_as_bash() -> None:
    checked = subprocess.run(["bash", "-n", str(CI_RUN)], capture_output=True, text=True, check=False)

    assert checked.returncode == 0, checked.stderr


def test_the_ci_entry_point_runs_exactly_the_readmes_test_command() -> None:
    runs = [line.strip() for line in CI_RUN.read_text().splitlines() if re.match(r"\s*make\s", line)]

    assert runs, "no make command in .ci/run"
    assert set(runs) == {readme_test_command()}


# ------------------------------------------------------------ the script's decisions, on stand-ins

# Each stand-in logs how it was called. `mariadb` lets root in over TCP once the state folder says
# so (`tcp-open`), and through the socket when it says so (`socket-open`); the statements sent
# through the socket open TCP.
STAND_INS = {
    "mariadb": """
echo "mariadb MYSQL_PWD=[${MYSQL_PWD-unset}] $*" >> "$CI_LOG"
case "$*" in
  *--protocol=TCP*) [ -e "$CI_STATE/tcp-open" ] ;;
  *--protocol=SOCKET*)
    [ -e "$CI_STATE/socket-open" ] || exit 1
    case "$*" in *"ALTER USER"*) : > "$CI_STATE/tcp-open" ;; esac ;;
  *) exit 2 ;;
esac
""",
    "make": 'echo "make $* ENGINE=$ENGINE" >> "$CI_LOG"',
    "apt-get": 'echo "apt-get $*" >> "$CI_LOG"; exit 100',
    "python3": "exit 0",  # the socket probe: MySQL answers on its port
    "mariadbd": "exit 0",  # only looked for: MariaDB is this machine's
    "chromium": "exit 0",
    "chromedriver": "exit 0",
}
TOOLS = ("dirname", "cat", "seq", "sleep")  # the machine's own


@dataclass
class Run:
    status: int
    stderr: str
    calls: list[str]

    def of(self, command: str) -> list[str]:
        return [call for call in self.calls if call.split(" ", 1)[0] == command]


def run_ci(tmp_path: Path, without: tuple[str, ...] = (), state: tuple[str, ...] = (), **env: str) -> Run:
    """A copy of .ci/run in an empty project, with nothing on PATH but the stand-ins (less those
    `without`) and a few standard tools."""
    project, bin_dir, state_dir, log = (tmp_path / name for name in ("project", "bin", "state", "calls.log"))
    (project / ".ci").mkdir(parents=True)
    shutil.copy(CI_RUN, project / ".ci" / "run")
    for folder in (bin_dir, state_dir):
        folder.mkdir()
    for name, body in STAND_INS.items():
        if name not in without:
            (bin_dir / name).write_text(f"#!/bin/sh\n{body.strip()}\n")
            (bin_dir / name).chmod(0o755)
    for tool in TOOLS:
        os.symlink(str(shutil.which(tool)), bin_dir / tool)
    for name in state:
        (state_dir / name).touch()
    result = subprocess.run(
        [str(shutil.which("bash")), str(project / ".ci" / "run")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": str(bin_dir), "CI_LOG": str(log), "CI_STATE": str(state_dir), **env},
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return Run(result.returncode, result.stderr, calls)


def test_with_root_signing_in_over_tcp_it_runs_the_test_command_on_ministack_and_changes_nothing(
    tmp_path: Path,
) -> None:
    run = run_ci(tmp_path, state=("tcp-open",), ENGINE="localstack")

    assert run.status == 0, run.stderr
    assert run.of("mariadb") == [
        "mariadb MYSQL_PWD=[] --protocol=TCP --host=127.0.0.1 --port=3306 --user=root --connect-timeout=5 "
        "--execute=SELECT 1"
    ]
    assert run.of("make") == [f"{readme_test_command()} ENGINE=ministack", "make down ENGINE=ministack"]


def test_root_let_in_through_the_socket_only_is_given_an_empty_password_over_tcp_then_tests_run(
    tmp_path: Path,
) -> None:
    run = run_ci(tmp_path, state=("socket-open",))

    assert run.status == 0, run.stderr
    through_socket = [call for call in run.of("mariadb") if "--protocol=SOCKET" in call]
    assert len(through_socket) == 2  # is it this machine's MariaDB, then the change
    assert (
        "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket;"
        in (through_socket[1])
    )
    assert "GRANT ALL PRIVILEGES ON *.* TO root@'127.0.0.1' WITH GRANT OPTION;" in through_socket[1]
    assert [call for call in run.of("mariadb") if "--protocol=TCP" in call][-1:] == [
        "mariadb MYSQL_PWD=[] --protocol=TCP --host=127.0.0.1 --port=3306 --user=root --connect-timeout=5 "
        "--execute=SELECT 1"
    ]
    assert run.of("make")[0] == f"{readme_test_command()} ENGINE=ministack"


@pytest.mark.parametrize(
    ("env", "without"),
    [
        ({}, ()),  # the socket refuses root too
        ({"MYSQL_USER": "ci", "MYSQL_PASSWORD": "secret"}, ()),  # not the kit's defaults
        ({"MYSQL_HOST": "db.example"}, ()),  # another machine's server
        ({}, ("mariadbd",)),  # a server this machine does not run
    ],
    ids=["socket-refuses", "own-user", "remote-server", "no-local-mariadb"],
)
def test_a_user_mysql_refuses_over_tcp_stops_the_run_before_the_tests_and_no_grant_is_changed(
    tmp_path: Path, env: dict[str, str], without: tuple[str, ...]
) -> None:
    state = ("socket-open",) if env or without else ()

    run = run_ci(tmp_path, without=without, state=state, **env)

    assert run.status == 1
    assert "cannot sign in to MySQL" in run.stderr
    assert not [call for call in run.of("mariadb") if "ALTER USER" in call]
    assert run.of("make") == []
    if env.get("MYSQL_PASSWORD"):
        assert all("MYSQL_PWD=[secret] " in call for call in run.of("mariadb") if "--protocol=TCP" in call)


def test_a_chromium_that_cannot_be_installed_stops_the_run_before_the_tests(tmp_path: Path) -> None:
    run = run_ci(tmp_path, without=("chromium", "chromedriver"), state=("tcp-open",))

    assert run.status == 1
    assert "chromium and chromium-driver could not be installed" in run.stderr
    assert run.of("apt-get") == ["apt-get update -qq"]
    assert run.of("make") == []
