"""Builds the Lambda zips: our package plus the locked runtime dependencies, without boto3.

Zips are reproducible: the same sources and lock give byte-identical files (sorted entries,
fixed timestamps and modes, no bytecode), so the content hash can name the S3 object.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bootstrap.config import BUILD_DIR, DIST_DIR, LAMBDA_REQUIREMENTS, LAMBDA_SOURCE, KitError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__"}
SKIPPED_TOP = {"bin"}  # console scripts of the dependencies: nothing runs them in a Lambda
SKIPPED_SUFFIXES = {".pyc", ".pyo"}


@dataclass(frozen=True)
class FunctionZip:
    name: str
    # Top-level packages of the dependency tree that this function never imports.
    excluded: tuple[str, ...] = ()


# The Lambda Python runtime provides boto3 and botocore with their dependencies; the X-Ray SDK
# asks for botocore, which must not ride along in the zips.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "python_dateutil", "six")
# Only the processor talks to MySQL: the others leave out PyMySQL and its RSA support.
MYSQL_ONLY = ("pymysql", "PyMySQL", "cryptography", "cffi", "_cffi_backend", "pycparser")
FUNCTIONS = (
    FunctionZip("http", excluded=RUNTIME_PROVIDED + MYSQL_ONLY),
    FunctionZip("processor", excluded=RUNTIME_PROVIDED),
    FunctionZip("callback", excluded=RUNTIME_PROVIDED + MYSQL_ONLY),
)


@dataclass(frozen=True)
class Target:
    """What interpreter the zips are for.

    `python` None means the AWS runtime (manylinux x86_64 wheels for CPython `version`);
    otherwise the dependencies are resolved by that interpreter for itself.
    """

    version: str
    python: str | None = None

    @property
    def tag(self) -> str:
        return f"py{self.version.replace('.', '')}-" + ("aws" if self.python is None else "native")


AWS_TARGET = Target(version="3.12")


@dataclass(frozen=True)
class BuiltZip:
    name: str
    path: Path
    sha256: str

    @property
    def s3_key(self) -> str:
        return f"functions/{self.name}-{self.sha256[:16]}.zip"


def _install_dependencies(target: Target) -> Path:
    lock = LAMBDA_REQUIREMENTS.read_bytes()
    digest = hashlib.sha256(lock + target.tag.encode()).hexdigest()[:16]
    site = BUILD_DIR / f"deps-{target.tag}-{digest}"
    marker = site / ".complete"
    if marker.exists():
        return site
    command = [
        target.python or sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--target",
        str(site),
        "--requirement",
        str(LAMBDA_REQUIREMENTS),
    ]
    if target.python is None:
        command += [
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            target.version,
            "--only-binary=:all:",
        ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise KitError(f"installing the Lambda dependencies failed: {result.stderr.strip()[-500:]}")
    marker.touch()
    return site


def _files(root: Path, excluded: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.name == ".complete":
            continue
        if SKIPPED_PARTS.intersection(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        top = relative.parts[0]
        if top in SKIPPED_TOP:
            continue
        if any(top == name or top.startswith((f"{name}-", f"{name}.")) for name in excluded):
            continue
        yield relative.as_posix(), path


def _write_archive(file: Path | BinaryIO, sources: list[tuple[str, Path]], level: int) -> None:
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for arcname, path in sorted(sources):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def _write_zip(destination: Path, sources: list[tuple[str, Path]]) -> str:
    destination.parent.mkdir(parents=True, exist_ok=True)
    _write_archive(destination, sources, level=9)
    return hashlib.sha256(destination.read_bytes()).hexdigest()


def zip_in_memory(function_name: str, source: Path, target: Target) -> bytes:
    """One function's zip from `source`, lightly compressed: the fast path of `make watch`."""
    function = next(f for f in FUNCTIONS if f.name == function_name)
    site = _install_dependencies(target)
    buffer = io.BytesIO()
    _write_archive(buffer, list(_files(source, ())) + list(_files(site, function.excluded)), level=1)
    return buffer.getvalue()


def build(target: Target = AWS_TARGET) -> list[BuiltZip]:
    site = _install_dependencies(target)
    code = list(_files(LAMBDA_SOURCE, excluded=()))
    built = []
    for function in FUNCTIONS:
        sources = code + list(_files(site, function.excluded))
        path = DIST_DIR / f"{function.name}.zip"
        built.append(BuiltZip(function.name, path, _write_zip(path, sources)))
    return built
