"""What a test needs from the machine beyond the kit: missing on a laptop, the test is skipped and
the skip names what to install; missing on CI (`CI=true`, as GitHub Actions, GitLab and most
runners set it), the test fails, so a run that could not test something never passes as green."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def missing(what: str, install: str) -> NoReturn:
    """Skip here, fail on CI: `what` the test needs is not on this machine; `install` says how to
    get it."""
    message = f"needs {what}; {install}"
    if on_ci():
        pytest.fail(f"{message} (CI=true: a missing prerequisite fails the run)", pytrace=False)
    pytest.skip(message)
