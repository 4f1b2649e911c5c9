"""A test missing something from the machine is skipped on a laptop, naming what to install, and
fails on CI."""

from __future__ import annotations

import pytest

from tests.support.prerequisites import missing


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_off_ci_a_missing_prerequisite_is_a_skip_that_names_what_to_install(
    monkeypatch: pytest.MonkeyPatch, ci: str | None
) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)

    with pytest.raises(pytest.skip.Exception) as skipped:
        missing("a Chromium", "install chromium")

    assert str(skipped.value) == "needs a Chromium; install chromium"


@pytest.mark.parametrize("ci", ["true", "TRUE", "True"])
def test_on_ci_a_missing_prerequisite_fails_the_test(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)

    with pytest.raises(pytest.fail.Exception) as failed:
        missing("a Chromium", "install chromium")

    assert str(failed.value).startswith("needs a Chromium; install chromium (CI=true")
