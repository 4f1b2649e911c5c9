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

from bootstrap import names, packaging
from bootstrap.config import LAMBDA_SOURCE
from bootstrap.dev import watch
from bootstrap.packaging import bytecode, manifest
from bootstrap.packaging import zips as packaging_zips

OUTPUTS = {function.output: f"fn-{function.output}" for function in names.FUNCTIONS}


class FakeLambda:
    """Records what the watcher asks of the Lambda API, answering as it does."""

    def __init__(self, failing: tuple[str, ...] = ()) -> None:
        self.calls: list[tuple[str, str]] = []  # ("update" | "invoke", function name), in order
        self.invoked: list[tuple[str, dict[str, Any]]] = []
        self.failing = failing

    @property
    def updated(self) -> list[str]:
        return [name for call, name in self.calls if call == "update"]

    def update_function_code(self, FunctionName: str, ZipFile: bytes) -> dict[str, Any]:  # noqa: N803
        self.calls.append(("update", FunctionName))
        return {}

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.calls.append(("invoke", FunctionName))
        self.invoked.append((FunctionName, json.loads(Payload)))
        if FunctionName in self.failing:
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(b'{"boom": 1}')}
        return {"StatusCode": 200, "Payload": io.BytesIO(b"{}")}


class FakeZips:
    """Stands for packaging.InMemoryZips: a zip's bytes are its name."""

    def zip(self, zip_name: str, source: Path) -> bytes:
        return zip_name.encode()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    copy = tmp_path / "lambdas"
    shutil.copytree(LAMBDA_SOURCE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def reload(client: FakeLambda, source: Path, changed: set[Path]) -> list[str]:
    return list(watch.reload(client, OUTPUTS, source, FakeZips(), changed))


def test_a_half_typed_file_is_named_with_its_line_and_the_next_save_reloads(source: Path) -> None:
    client = FakeLambda()
    routes = source / "appointments" / "http" / "routes.py"
    good = routes.read_text()
    routes.write_text(good + "\ndef half_typed(:\n")
    broken_line = len((good + "\ndef half_typed(:\n").splitlines())

    [said] = reload(client, source, {routes})

    assert said.startswith(f"{routes}:{broken_line}: ")
    assert "not reloaded" in said
    assert client.updated == []

    routes.write_text(good)
    *each, said = reload(client, source, {routes})

    http_functions = [OUTPUTS[f.output] for f in names.functions_in(names.HTTP_ZIP)]
    assert said.startswith(f"reloaded {', '.join(http_functions)} in ")
    assert [line.split(" ")[0] for line in each] == http_functions
    assert all(" updated and warm " in line for line in each)
    assert client.updated == http_functions


def test_each_reloaded_function_is_invoked_once_with_an_event_that_touches_no_data(source: Path) -> None:
    client = FakeLambda()
    changed = {source / "appointments" / "domain.py"}  # every function imports it

    reload(client, source, changed)

    assert sorted(client.updated) == sorted(OUTPUTS.values())
    events = dict(client.invoked)
    assert sorted(events) == sorted(OUTPUTS.values())
    assert events[OUTPUTS[names.HTTP_FUNCTION_NAME]]["headers"] == {}  # no API key: answered 401
    assert events[OUTPUTS[names.CALLBACK_FUNCTION_NAME]] == {"Records": []}


def test_each_function_is_warmed_right_after_its_own_update_and_reported_before_the_next(
    source: Path,
) -> None:
    client = FakeLambda()
    lines = watch.reload(client, OUTPUTS, source, FakeZips(), {source / "appointments" / "domain.py"})
    http = OUTPUTS[names.HTTP_FUNCTION_NAME]

    first = next(lines)

    # The HTTP function is live and warm, and said so, before any other function is touched.
    assert first.startswith(f"{http} updated and warm ")
    assert client.calls == [("update", http), ("invoke", http)]

    rest = list(lines)
    order = [OUTPUTS[function.output] for function in names.FUNCTIONS]
    assert client.calls == [(call, name) for name in order for call in ("update", "invoke")]
    assert [line.split(" ")[0] for line in [first, *rest[:-1]]] == order
    assert rest[-1].startswith(f"reloaded {', '.join(order)} in ")


def test_a_failing_warm_up_is_named_and_the_other_functions_still_reload(source: Path) -> None:
    http = OUTPUTS[names.HTTP_FUNCTION_NAME]
    client = FakeLambda(failing=(http,))

    lines = reload(client, source, {source / "appointments" / "http" / "routes.py"})

    assert lines[0].startswith(f"{http} updated ")
    assert "its first invocation failed" in lines[0]
    assert "boom" in lines[0]
    assert client.updated == [OUTPUTS[f.output] for f in names.functions_in(names.HTTP_ZIP)]
    assert " updated and warm " in lines[1]


def test_a_change_no_entry_point_imports_reloads_nothing(source: Path) -> None:
    stray = source / "appointments" / "stray.py"
    stray.write_text("X = 1\n")
    client = FakeLambda()

    assert reload(client, source, {stray}) == ["appointments/stray.py changed; no function imports it"]
    assert client.calls == []


def test_the_import_graph_is_parsed_again_for_the_saved_file_only(
    source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    real_parse = ast.parse

    def parse(text: str, filename: str = "<unknown>", **options: Any) -> ast.Module:
        parsed.append(Path(filename).name)
        return real_parse(text, filename=filename, **options)

    monkeypatch.setattr(watch.ast, "parse", parse)
    routes = source / "appointments" / "http" / "routes.py"
    watch.affected_zips(source, {routes})
    assert "routes.py" in parsed
    assert len(parsed) > 10  # the first look reads the whole package

    parsed.clear()
    routes.write_text(routes.read_text() + "\n# saved again\n")
    assert watch.affected_zips(source, {routes}) == [names.HTTP_ZIP]
    assert parsed == ["routes.py"]


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
    monkeypatch.setattr(packaging_zips, "install_dependencies", lambda target: folder)
    monkeypatch.setattr(bytecode, "BUILD_DIR", tmp_path / "build")  # no bytecode `make build` left
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
    zips = packaging.InMemoryZips(packaging.AWS_TARGET)

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
    zips = packaging.InMemoryZips(packaging.AWS_TARGET)

    for function in packaging.FUNCTIONS:
        expected = list(manifest.zip_entries(source, ())) + list(
            manifest.zip_entries(site, function.excluded, function.excluded_folders)
        )
        assert set(contents(zips.zip(function.name, source))) == {arcname for arcname, _ in expected}
    assert "pymysql/__init__.py" not in contents(zips.zip(names.HTTP_ZIP, source))
    assert "pymysql/__init__.py" in contents(zips.zip(names.PROCESSOR_ZIP, source))


def test_a_new_dependency_folder_gives_a_new_part(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = small_package(tmp_path / "lambdas")
    zips = packaging.InMemoryZips(packaging.AWS_TARGET)
    zips.zip(names.HTTP_ZIP, source)
    relocked = tmp_path / "deps-relocked"
    shutil.copytree(site, relocked)
    (relocked / "wrapt" / "__init__.py").write_text("A = 'relocked'\n")
    monkeypatch.setattr(packaging_zips, "install_dependencies", lambda target: relocked)

    assert contents(zips.zip(names.HTTP_ZIP, source))["wrapt/__init__.py"] == b"A = 'relocked'\n"


def test_a_changed_module_rides_without_the_bytecode_of_its_old_source(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "why_no_bytecode", lambda host, target: None)
    source = small_package(tmp_path / "lambdas")
    api = source / "appointments" / "api.py"
    cache = tmp_path / "build" / "pyc" / packaging.AWS_TARGET.cache_tag
    cache.mkdir(parents=True)
    # what `make build` compiled for api.py as it was
    (cache / f"{bytecode.bytecode_key('appointments/api.py', api.read_bytes())}.pyc").write_bytes(b"old")
    zips = packaging.InMemoryZips(packaging.AWS_TARGET)
    compiled = f"appointments/__pycache__/api.{packaging.AWS_TARGET.cache_tag}.pyc"

    assert contents(zips.zip(names.HTTP_ZIP, source))[compiled] == b"old"
    api.write_text("TEXT = 'new'\n")
    assert compiled not in contents(zips.zip(names.HTTP_ZIP, source))
