"""Zips are reproducible: the same files give the same bytes, whatever their timestamps."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bootstrap import packaging
from bootstrap.packaging import bytecode, zips
from bootstrap.packaging.archive import write_zip
from bootstrap.packaging.manifest import zip_entries


def make_tree(root: Path) -> None:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("x = 1\n")
    (root / "pkg" / "__pycache__" / "__init__.cpython-312.pyc").write_bytes(b"\0")
    (root / "pymysql").mkdir()
    (root / "pymysql" / "__init__.py").write_text("")
    (root / "PyMySQL-1.2.4.dist-info").mkdir()
    (root / "PyMySQL-1.2.4.dist-info" / "METADATA").write_text("Name: PyMySQL\n")
    (root / "bin").mkdir()
    (root / "bin" / "jp.py").write_text("#!python\n")
    (root / "_cffi_backend.cpython-312-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    (root / "python_ulid-4.1.0.dist-info").mkdir()
    for name, text in [("METADATA", "Name: python-ulid\n"), ("INSTALLER", "uv\n"), ("REQUESTED", "")]:
        (root / "python_ulid-4.1.0.dist-info" / name).write_text(text)
    (root / "python_ulid-4.1.0.dist-info" / "RECORD").write_text(f"bin/ulid,sha256=of-a-#!{root}/python,9\n")
    (root / ".lock").write_text("")  # uv's, in the folder it installs into
    (root / ".complete").write_text("")


def test_the_same_files_give_byte_identical_zips(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    first = write_zip(tmp_path / "a.zip", list(zip_entries(tmp_path / "src", ())))
    os.utime(tmp_path / "src" / "pkg" / "__init__.py", (0, 0))
    second = write_zip(tmp_path / "b.zip", list(zip_entries(tmp_path / "src", ())))

    assert first == second
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_bytecode_and_excluded_packages_stay_out(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")

    write_zip(
        tmp_path / "a.zip",
        list(zip_entries(tmp_path / "src", ("pymysql", "PyMySQL", "_cffi_backend", "python_ulid"))),
    )

    assert zipfile.ZipFile(tmp_path / "a.zip").namelist() == ["pkg/__init__.py"]


def test_the_installers_records_stay_out_and_the_packages_metadata_rides_along(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")

    names = [
        arcname
        for arcname, _ in zip_entries(tmp_path / "src", ("pymysql", "PyMySQL", "pkg", "_cffi_backend"))
    ]

    assert names == ["python_ulid-4.1.0.dist-info/METADATA"]


def test_where_the_kit_is_checked_out_changes_no_byte_of_a_zip(tmp_path: Path) -> None:
    make_tree(tmp_path / "here")
    make_tree(tmp_path / "elsewhere")

    here = write_zip(tmp_path / "a.zip", list(zip_entries(tmp_path / "here", ())))
    elsewhere = write_zip(tmp_path / "b.zip", list(zip_entries(tmp_path / "elsewhere", ())))

    assert here == elsewhere


def test_no_zip_carries_what_the_lambda_runtime_provides() -> None:
    from bootstrap.packaging import FUNCTIONS

    for function in FUNCTIONS:
        assert {"boto3", "botocore", "s3transfer"} <= set(function.excluded), function.name


def module_tree(root: Path) -> list[tuple[str, Path]]:
    package = root / "probed"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "handler.py").write_text(
        "from probed import used\n\ndef lambda_handler(event, context):\n    return used.X\n"
    )
    (package / "used.py").write_text("X = 'used'\n")
    (package / "unused.py").write_text("Y = 'never imported'\n")
    return list(zip_entries(root, ()))


def this_python() -> packaging.Target:
    """The interpreter running the tests as the target: the probe runs whatever the host is."""
    return packaging.Target(version=f"{sys.version_info[0]}.{sys.version_info[1]}", python=sys.executable)


def test_bytecode_rides_along_for_what_the_cold_start_imports_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "BUILD_DIR", tmp_path / "build")
    sources = module_tree(tmp_path / "src")
    function = packaging.FunctionZip("probe", "probed.handler")
    target = this_python()

    compiled = dict(bytecode.cold_start_bytecode(function, sources, target, (tmp_path / "src",)))

    tag = sys.implementation.cache_tag
    assert sorted(compiled) == [
        f"probed/__pycache__/__init__.{tag}.pyc",
        f"probed/__pycache__/handler.{tag}.pyc",
        f"probed/__pycache__/used.{tag}.pyc",
    ]
    header = compiled[f"probed/__pycache__/used.{tag}.pyc"].read_bytes()[:16]
    assert header[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(header[4:8], "little") == 0b01  # hash-based, never checked against the source


def test_the_bytecode_in_the_zip_is_what_runs_without_checking_the_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "BUILD_DIR", tmp_path / "build")
    sources = module_tree(tmp_path / "src")
    target = this_python()
    sources += bytecode.cold_start_bytecode(
        packaging.FunctionZip("probe", "probed.handler"), sources, target, (tmp_path / "src",)
    )
    write_zip(tmp_path / "f.zip", sources)
    zipfile.ZipFile(tmp_path / "f.zip").extractall(tmp_path / "task")
    # Changed source, unchanged bytecode: the bytecode is what runs (it is not checked).
    (tmp_path / "task" / "probed" / "used.py").write_text("X = 'source'\n")

    out = subprocess.run(
        [sys.executable, "-B", "-c", "import probed.handler as h; print(h.lambda_handler(None, None))"],
        cwd=tmp_path / "task",
        capture_output=True,
        text=True,
        check=True,
    )

    assert out.stdout.strip() == "used"


def test_no_bytecode_for_another_python_than_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "BUILD_DIR", tmp_path / "build")
    sources = module_tree(tmp_path / "src")

    other = packaging.Target(version="2.7")

    assert (
        bytecode.cold_start_bytecode(
            packaging.FunctionZip("probe", "probed.handler"), sources, other, (tmp_path / "src",)
        )
        == []
    )


def test_a_change_in_our_code_changes_the_fingerprint(tmp_path: Path) -> None:
    sources = module_tree(tmp_path / "src")
    function = packaging.FunctionZip("probe", "probed.handler")
    before = zips.inputs_fingerprint(function, sources, tmp_path)

    (tmp_path / "src" / "probed" / "used.py").write_text("X = 'changed'\n")

    assert zips.inputs_fingerprint(function, sources, tmp_path) != before
    assert zips.inputs_fingerprint(function, sources, tmp_path) == zips.inputs_fingerprint(
        function, sources, tmp_path
    )


LINUX_X86 = packaging.Host("Linux", "x86_64", "glibc", "cpython-312")


@pytest.mark.parametrize(
    ("host", "why"),
    [
        (packaging.Host("Darwin", "arm64", "", "cpython-312"), "Darwin arm64 cannot load"),
        (packaging.Host("Darwin", "x86_64", "", "cpython-312"), "Darwin x86_64 cannot load"),
        (packaging.Host("Linux", "aarch64", "glibc", "cpython-312"), "Linux aarch64 (glibc) cannot load"),
        (packaging.Host("Linux", "x86_64", "", "cpython-312"), "Linux x86_64 cannot load"),  # musl
        (packaging.Host("Windows", "AMD64", "", "cpython-312"), "Windows AMD64 cannot load"),
        (
            packaging.Host("Linux", "x86_64", "glibc", "cpython-311"),
            "runs cpython-311, the functions cpython-312",
        ),
        (packaging.Host("Linux", "x86_64", "glibc", None), "runs a Python without bytecode"),
    ],
)
def test_no_bytecode_where_the_host_cannot_import_the_aws_wheels(host: packaging.Host, why: str) -> None:
    reason = packaging.why_no_bytecode(host, packaging.AWS_TARGET)

    assert reason is not None
    assert why in reason


def test_bytecode_for_the_aws_runtime_where_the_host_is_that_runtime() -> None:
    assert packaging.why_no_bytecode(LINUX_X86, packaging.AWS_TARGET) is None


def test_a_native_target_needs_only_the_same_python_whatever_the_machine() -> None:
    native = packaging.Target(version="3.12", python="/usr/bin/python3.12")

    assert packaging.why_no_bytecode(packaging.Host("Darwin", "arm64", "", "cpython-312"), native) is None
    assert packaging.why_no_bytecode(packaging.Host("Darwin", "arm64", "", "cpython-313"), native) is not None


def test_a_build_that_cannot_probe_ships_no_bytecode_and_never_runs_the_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bytecode, "BUILD_DIR", tmp_path / "build")
    monkeypatch.setattr(
        packaging.Host,
        "this_one",
        classmethod(lambda cls: packaging.Host("Darwin", "arm64", "", "cpython-312")),
    )

    def no_probe(*args: object) -> set[Path]:
        raise AssertionError("the import probe ran on a host that cannot load the wheels")

    monkeypatch.setattr(bytecode, "_imported_at_cold_start", no_probe)
    sources = module_tree(tmp_path / "src")

    assert (
        bytecode.cold_start_bytecode(
            packaging.FunctionZip("probe", "probed.handler"), sources, packaging.AWS_TARGET, ()
        )
        == []
    )


def test_whether_bytecode_rides_along_is_part_of_the_fingerprint(tmp_path: Path) -> None:
    sources = module_tree(tmp_path / "src")
    function = packaging.FunctionZip("probe", "probed.handler")

    assert zips.inputs_fingerprint(function, sources, tmp_path, None) != zips.inputs_fingerprint(
        function, sources, tmp_path, "Darwin arm64 cannot load the functions' manylinux x86_64 wheels"
    )
