"""`make watch`: which functions a saved change reaches, a half-typed file, the warm-up after a reload,
and the in-memory zips whose dependency part is made once."""

from __future__ import annotations

import ast
import io
import json
import shutil
import zipfile
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


class FakeZips:
    """Stands for build.InMemoryZips: a zip's bytes are its name."""

    def zip(self, zip_name: str, source: Path) -> bytes:
        return zip_name.encode()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    copy = tmp_path / "lambdas"
    shutil.copytree(LAMBDA_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_a_half_typed_file_is_named_with_its_line_and_the_next_save_reloads(source: Path) -> None:
    client = FakeLambda()
    api = source / "appointments" / "api.py"
    good = api.read_text()
    api.write_text(good + "\ndef half_typed(:\n")
    broken_line = len((good + "\ndef half_typed(:\n").splitlines())

    said = watch.reload(client, OUTPUTS, source, FakeZips(), {api})

    assert said.startswith(f"{api}:{broken_line}: ")
    assert "not reloaded" in said
    assert client.updated == []

    api.write_text(good)
    said = watch.reload(client, OUTPUTS, source, FakeZips(), {api})

    http_functions = [OUTPUTS[f.output] for f in names.functions_in(names.HTTP_ZIP)]
    assert said.startswith(f"reloaded {', '.join(http_functions)} in ")
    assert "warm" in said
    assert client.updated == http_functions


def test_each_reloaded_function_is_invoked_once_with_an_event_that_touches_no_data(source: Path) -> None:
    client = FakeLambda()
    changed = {source / "appointments" / "domain.py"}  # every function imports it

    watch.reload(client, OUTPUTS, source, FakeZips(), changed)

    assert sorted(client.updated) == sorted(OUTPUTS.values())
    events = dict(client.invoked)
    assert sorted(events) == sorted(OUTPUTS.values())
    assert events[OUTPUTS[names.HTTP_FUNCTION_NAME]]["headers"] == {}  # no API key: answered 401
    assert events[OUTPUTS[names.CALLBACK_FUNCTION_NAME]] == {"Records": []}


def test_the_import_graph_is_parsed_again_for_the_saved_file_only(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_parse = ast.parse

    def parse(text: str, filename: str = "<unknown>", **options: Any) -> ast.Module:
        parsed.append(Path(filename).name)
        return real_parse(text, filename=filename, **options)

    monkeypatch.setattr(watch.ast, "parse", parse)
    api = source / "appointments" / "api.py"
    watch.affected_zips(source, {api})
    assert "api.py" in parsed
    assert len(parsed) > 10  # the first look reads the whole package

    parsed.clear()
    api.write_text(api.read_text() + "\n# saved again\n")
    assert watch.affected_zips(source, {api}) == [names.HTTP_ZIP]
    assert parsed == ["api.py"]


# The in-memory zips: the dependency part is made once, the package is read on every zip.


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A dependency folder as uv installs it, with a package only the processor ships."""
    folder = tmp_path / "deps"
    for package, text in (("wrapt", "A = 'first'\n"), ("pymysql", "B = 1\n")):
        (folder / package).mkdir(parents=True)
        (folder / package / "__init__.py").write_text(text)
    (folder / "wrapt-1.0.dist-info").mkdir()
    (folder / "wrapt-1.0.dist-info" / "METADATA").write_text("Name: wrapt\n")
    monkeypatch.setattr(build, "_install_dependencies", lambda target: folder)
    monkeypatch.setattr(build, "BUILD_DIR", tmp_path / "build")  # no bytecode `make build` left
    return folder


def small_package(root: Path) -> Path:
    (root / "appointments").mkdir(parents=True)
    (root / "appointments" / "__init__.py").write_text("")
    (root / "appointments" / "api.py").write_text("TEXT = 'old'\n")
    return root


def contents(code: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(code))
    names_in = archive.namelist()
    assert len(names_in) == len(set(names_in)), "an entry twice"
    assert archive.testzip() is None
    return {name: archive.read(name) for name in names_in}


def test_the_dependency_part_is_made_once_and_the_package_is_read_on_every_zip(
    tmp_path: Path, site: Path
) -> None:
    source = small_package(tmp_path / "lambdas")
    zips = build.InMemoryZips(build.AWS_TARGET)

    first = contents(zips.zip(names.HTTP_ZIP, source))
    part = zips.dependencies(names.HTTP_ZIP)
    (source / "appointments" / "api.py").write_text("TEXT = 'new'\n")
    (site / "wrapt" / "__init__.py").write_text("A = 'changed under the watcher'\n")
    second = contents(zips.zip(names.HTTP_ZIP, source))

    assert zips.dependencies(names.HTTP_ZIP) is part  # kept, not made again
    assert first["wrapt/__init__.py"] == second["wrapt/__init__.py"] == b"A = 'first'\n"
    assert first["appointments/api.py"] == b"TEXT = 'old'\n"
    assert second["appointments/api.py"] == b"TEXT = 'new'\n"
    assert first.keys() == second.keys()


def test_an_in_memory_zip_holds_what_the_built_zip_of_the_function_holds(tmp_path: Path, site: Path) -> None:
    source = small_package(tmp_path / "lambdas")
    zips = build.InMemoryZips(build.AWS_TARGET)

    for function in build.FUNCTIONS:
        expected = list(build._files(source, ())) + list(
            build._files(site, function.excluded, function.excluded_folders)
        )
        assert set(contents(zips.zip(function.name, source))) == {arcname for arcname, _ in expected}
    assert "pymysql/__init__.py" not in contents(zips.zip(names.HTTP_ZIP, source))
    assert "pymysql/__init__.py" in contents(zips.zip(names.PROCESSOR_ZIP, source))


def test_a_new_dependency_folder_gives_a_new_part(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = small_package(tmp_path / "lambdas")
    zips = build.InMemoryZips(build.AWS_TARGET)
    zips.zip(names.HTTP_ZIP, source)
    relocked = tmp_path / "deps-relocked"
    shutil.copytree(site, relocked)
    (relocked / "wrapt" / "__init__.py").write_text("A = 'relocked'\n")
    monkeypatch.setattr(build, "_install_dependencies", lambda target: relocked)

    assert contents(zips.zip(names.HTTP_ZIP, source))["wrapt/__init__.py"] == b"A = 'relocked'\n"


def test_a_changed_module_rides_without_the_bytecode_of_its_old_source(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build, "why_no_bytecode", lambda host, target: None)
    source = small_package(tmp_path / "lambdas")
    api = source / "appointments" / "api.py"
    cache = tmp_path / "build" / "pyc" / build.AWS_TARGET.cache_tag
    cache.mkdir(parents=True)
    # what `make build` compiled for api.py as it was
    (cache / f"{build._bytecode_key('appointments/api.py', api.read_bytes())}.pyc").write_bytes(b"old")
    zips = build.InMemoryZips(build.AWS_TARGET)
    compiled = f"appointments/__pycache__/api.{build.AWS_TARGET.cache_tag}.pyc"

    assert contents(zips.zip(names.HTTP_ZIP, source))[compiled] == b"old"
    api.write_text("TEXT = 'new'\n")
    assert compiled not in contents(zips.zip(names.HTTP_ZIP, source))
