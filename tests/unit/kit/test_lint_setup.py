"""`make lint` scans the template with checkov from a virtualenv of its own, which `make up` never
builds (the scanner and its dependencies are large and only lint needs them)."""

from __future__ import annotations

import shutil
import subprocess

from bootstrap.config import ROOT

SCAN_VENV = ".scan-venv"


def planned(*targets: str) -> str:
    """What make would run for the targets, every prerequisite taken as out of date, run nothing."""
    return subprocess.run(
        [shutil.which("make") or "make", "--dry-run", "--always-make", *targets],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_up_never_builds_the_scanners_virtualenv() -> None:
    assert SCAN_VENV not in planned("up")


def test_make_lint_scans_the_template_of_both_api_flavours_from_its_own_virtualenv() -> None:
    lint = planned("lint")

    assert "--require-hashes --compile-bytecode requirements/scan.txt" in lint
    [scan] = [line for line in lint.splitlines() if "bin/checkov" in line]
    assert scan.startswith(f"{SCAN_VENV}/bin/checkov --quiet --compact --framework cloudformation")
    assert "--file bootstrap/stack/template.yaml --file build/scan/template-rest.yaml" in lint.replace(
        "\\\n  ", ""
    )


def test_the_scanners_virtualenv_is_ignored_and_cleaned() -> None:
    assert f"{SCAN_VENV}/" in (ROOT / ".gitignore").read_text().splitlines()
    assert SCAN_VENV in planned("clean")
