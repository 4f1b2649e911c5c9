"""Runs `python -m bootstrap ...` as a user runs the Make targets, against the tests' engine."""

from __future__ import annotations

import os
import subprocess
import sys

from bootstrap.config import ROOT, KitConfig


def environment_of(config: KitConfig) -> dict[str, str]:
    """The variables that make the kit's commands act on `config`'s engine and stage."""
    return {
        "ENGINE": config.engine,
        "ENGINE_PORT": str(config.engine_port),
        "LOCAL_STATE_DIR": str(config.state_dir),
        "STAGE": config.stage,
        "DB_PARAMETERS_PREFIX": config.db_parameters_prefix,
        "API_KEY_PARAMETER": config.api_key_parameter,
        "QUEUE_VISIBILITY_TIMEOUT": str(config.queue_visibility_timeout),
        "MAX_RECEIVE_COUNT": str(config.max_receive_count),
    }


def kit_command(kit_config: KitConfig, *args: str) -> str:
    """`python -m bootstrap ARGS` on `kit_config`'s engine and stage; its output."""
    result = subprocess.run(
        [sys.executable, "-m", "bootstrap", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, **environment_of(kit_config)},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
