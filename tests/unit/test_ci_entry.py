"""`.ci/run`, what CI runs on a clean clone: a shell script that parses, and runs the README's test command."""

from __future__ import annotations

import subprocess

from bootstrap.config import ROOT

CI_RUN = ROOT / ".ci" / "run"


def test_the_ci_entry_point_parses_as_bash() -> None:
    checked = subprocess.run(["bash", "-n", str(CI_RUN)], capture_output=True, text=True, check=False)

    assert checked.returncode == 0, checked.stderr


def test_the_ci_entry_point_runs_the_readmes_test_command() -> None:
    commands = [line.strip() for line in CI_RUN.read_text().splitlines() if not line.lstrip().startswith("#")]

    assert "make test" in commands
    assert "make test" in (ROOT / "README.md").read_text()
