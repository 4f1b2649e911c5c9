"""`make watch`: which functions a saved change reaches, a half-typed file, the warm-up after a reload."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from bootstrap import build, names, watch
from bootstrap.config import LAMBDA_SOURCE

OUTPUTS = {function.output: f"fn-{function.output}" for function in names.FUNCTIONS}


class FakeLambda:
    """Records what the watcher asks of the Lambda API, answering as it does."""

    def __init__(self) -> None:
        self.updated: list[str] = []
        self.invoked: list[tuple[str, dict[str, Any]]] = []

    def update_function_code(self, FunctionName: str, ZipFile: bytes) -> dict[str, Any]:  # noqa: N803
        self.updated.append(FunctionName)
        return {}

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.invoked.append((FunctionName, json.loads(Payload)))
        return {"StatusCode": 200, "Payload": io.BytesIO(b"{}")}


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    copy = tmp_path / "lambdas"
    shutil.copytree(LAMBDA_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(build, "zip_in_memory", lambda name, source, target: name.encode())
    return copy


def test_a_half_typed_file_is_named_with_its_line_and_the_next_save_reloads(source: Path) -> None:
    client = FakeLambda()
    api = source / "appointments" / "api.py"
    good = api.read_text()
    api.write_text(good + "\ndef half_typed(:\n")
    broken_line = len((good + "\ndef half_typed(:\n").splitlines())

    said = watch.reload(client, OUTPUTS, source, build.AWS_TARGET, {api})

    assert said.startswith(f"{api}:{broken_line}: ")
    assert "not reloaded" in said
    assert client.updated == []

    api.write_text(good)
    said = watch.reload(client, OUTPUTS, source, build.AWS_TARGET, {api})

    http_functions = [OUTPUTS[f.output] for f in names.functions_in(names.HTTP_ZIP)]
    assert said.startswith(f"reloaded {', '.join(http_functions)} in ")
    assert "warm" in said
    assert client.updated == http_functions


def test_each_reloaded_function_is_invoked_once_with_an_event_that_touches_no_data(source: Path) -> None:
    client = FakeLambda()
    changed = {source / "appointments" / "domain.py"}  # every function imports it

    watch.reload(client, OUTPUTS, source, build.AWS_TARGET, changed)

    assert sorted(client.updated) == sorted(OUTPUTS.values())
    events = dict(client.invoked)
    assert sorted(events) == sorted(OUTPUTS.values())
    assert events[OUTPUTS[names.HTTP_FUNCTION_NAME]]["headers"] == {}  # no API key: answered 401
    assert events[OUTPUTS[names.CALLBACK_FUNCTION_NAME]] == {"Records": []}
