"""Zips are reproducible: the same files give the same bytes, whatever their timestamps."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from bootstrap.build import _files, _write_zip


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


def test_the_same_files_give_byte_identical_zips(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")
    first = _write_zip(tmp_path / "a.zip", list(_files(tmp_path / "src", ())))
    os.utime(tmp_path / "src" / "pkg" / "__init__.py", (0, 0))
    second = _write_zip(tmp_path / "b.zip", list(_files(tmp_path / "src", ())))

    assert first == second
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_bytecode_and_excluded_packages_stay_out(tmp_path: Path) -> None:
    make_tree(tmp_path / "src")

    _write_zip(tmp_path / "a.zip", list(_files(tmp_path / "src", ("pymysql", "PyMySQL", "_cffi_backend"))))

    assert zipfile.ZipFile(tmp_path / "a.zip").namelist() == ["pkg/__init__.py"]


def test_no_zip_carries_what_the_lambda_runtime_provides() -> None:
    from bootstrap.build import FUNCTIONS

    for function in FUNCTIONS:
        assert {"boto3", "botocore", "s3transfer"} <= set(function.excluded), function.name
