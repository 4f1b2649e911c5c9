"""Runs `python -m bootstrap ...` as a user runs the Make targets, against the tests' engine."""

from __future__ import annotations

import os
import subprocess
import sys

from bootstrap.config import ROOT, KitConfig


def kit_command(kit_config: KitConfig, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "bootstrap", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "ENGINE": kit_config.engine},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
