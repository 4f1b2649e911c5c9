"""Builds the Lambda zips: our package plus the locked runtime dependencies, without boto3.

Zips are reproducible: the same sources and lock give byte-identical files (sorted entries,
fixed timestamps and modes), so the content hash can name the S3 object.

Each module rides with its bytecode, compiled by the build for the target's Python and marked
"unchecked hash": the Lambda code folder is read-only, so without it every cold start compiles
pydantic and powertools again (bench/cold_start.py measures the difference). Which modules a cold
start loads is found by importing the handlers, so bytecode is left out where the build cannot
import them as the target does (`why_no_bytecode`), and stray `__pycache__` folders of the
sources never ride along.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import py_compile
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from uv import find_uv_bin

from bootstrap import names
from bootstrap.config import BUILD_DIR, DIST_DIR, LAMBDA_REQUIREMENTS, LAMBDA_SOURCE, KitError

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
SKIPPED_PARTS = {"__pycache__"}
SKIPPED_TOP = {"bin"}  # console scripts of the dependencies: nothing runs them in a Lambda
SKIPPED_SUFFIXES = {".pyc", ".pyo", ".pyi"}  # stale bytecode, type stubs
# The installer's own files: the build's marker and the lock uv keeps in the folder it installs into.
INSTALLER_FILES = {".complete", ".lock"}
# What an installer writes into each .dist-info: who installed it, and RECORD, whose hashes cover
# the console scripts and their `#!` line, the build's own interpreter path. Nothing in a
# Lambda reads them (importlib.metadata.version reads METADATA), and without them the zips do
# not depend on where the kit is checked out or which installer ran.
INSTALLER_RECORDS = {"RECORD", "INSTALLER", "REQUESTED"}


@dataclass(frozen=True)
class FunctionZip:
    name: str
    handler_module: str  # the template's Handler, without `.lambda_handler`
    # Top-level packages of the dependency tree that this function never imports.
    excluded: tuple[str, ...] = ()
    # Folders inside those packages that it never reads.
    excluded_folders: tuple[str, ...] = ()
    # Other functions' handlers shipped in the same zip (the reconciler rides in the HTTP zip).
    also_handles: tuple[str, ...] = ()
    # Modules it imports on a first request of some kind rather than at its cold start: their
    # bytecode rides along too.
    loaded_later: tuple[str, ...] = ()

    @property
    def handlers(self) -> tuple[str, ...]:
        return (self.handler_module, *self.also_handles)


# The Lambda Python runtime provides boto3 and botocore with their dependencies; the X-Ray SDK
# asks for botocore, which must not ride along in the zips.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "urllib3", "dateutil", "python_dateutil", "six")
# Only the processor talks to MySQL: the others leave out PyMySQL and its RSA support.
# Swagger UI's scripts and styles (0.4 MB zipped): only the HTTP function serves /docs.
SWAGGER_UI = "aws_lambda_powertools/event_handler/openapi/swagger_ui/"
MYSQL_ONLY = ("pymysql", "PyMySQL", "cryptography", "cffi", "_cffi_backend", "pycparser")


# What the HTTP function loads on the first request for /docs and the first with an
# Idempotency-Key (appointments/api.py), and no other request.
HTTP_LOADED_LATER = (
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.event_handler.openapi.schema_generator",
    "aws_lambda_powertools.event_handler.openapi.swagger_ui",
    "aws_lambda_powertools.utilities.idempotency",
    "pydantic._internal._dataclasses",  # the OpenAPI document's generation loads it
)


def _function_zip(
    name: str,
    excluded: tuple[str, ...],
    excluded_folders: tuple[str, ...] = (),
    loaded_later: tuple[str, ...] = (),
) -> FunctionZip:
    """The zip `name` of names.FUNCTIONS, serving the handler modules of its functions."""
    first, *others = names.handler_modules(name)
    return FunctionZip(name, first, excluded, excluded_folders, tuple(others), loaded_later)


FUNCTIONS = (
    _function_zip(names.HTTP_ZIP, RUNTIME_PROVIDED + MYSQL_ONLY, loaded_later=HTTP_LOADED_LATER),
    _function_zip(names.PROCESSOR_ZIP, RUNTIME_PROVIDED, excluded_folders=(SWAGGER_UI,)),
    _function_zip(names.CALLBACK_ZIP, RUNTIME_PROVIDED + MYSQL_ONLY, excluded_folders=(SWAGGER_UI,)),
)
# What the template gives the functions, enough for their modules to import: the values only
# need to be well formed (an import creates clients and reads settings, it calls nothing).
IMPORT_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "build",
    "AWS_SECRET_ACCESS_KEY": "build",
    "POWERTOOLS_SERVICE_NAME": "build",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "TABLE_NAME": "appointments",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "TOPIC_ARN": "arn:aws:sns:us-east-1:000000000000:appointments",
    "API_KEY_PARAMETER": names.DEFAULT_API_KEY_PARAMETER,
    "COUNTRY_ISO": names.COUNTRIES[0].value,
    "DB_PARAMETERS_PATH": names.db_parameters_path(names.DEFAULT_DB_PARAMETERS_PREFIX, names.COUNTRIES[0]),
    "EVENT_BUS_NAME": "appointments",
    "DB_TLS": "off",  # an import reads no CA bundle; the zips may carry none yet
    "PYTHONDONTWRITEBYTECODE": "1",
}
# Imports handler modules (comma-separated) with the given folders first on sys.path; prints the
# files they loaded.
IMPORT_PROBE = """
import importlib, json, sys
roots = sys.argv[2:]
sys.path[0:0] = roots
for module in sys.argv[1].split(","):
    importlib.import_module(module)
files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
print(json.dumps(sorted(f for f in files if f and f.startswith(tuple(roots)))))
"""


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

    @property
    def cache_tag(self) -> str:
        """The name its bytecode carries (sys.implementation.cache_tag of that interpreter)."""
        return f"cpython-{self.version.replace('.', '')}"


AWS_TARGET = Target(version="3.12")
# The AWS target's wheels are manylinux x86_64: their compiled parts (pydantic_core) load only on
# an x86_64 Linux with glibc, as (platform.system, machine, libc) name it.
AWS_WHEELS_LOAD_ON = ("Linux", "x86_64", "glibc")


@dataclass(frozen=True)
class Host:
    """What the build runs on, as far as importing the target's dependencies goes."""

    system: str  # platform.system(): Linux, Darwin, Windows
    machine: str  # platform.machine(): x86_64, aarch64, arm64, AMD64
    libc: str  # platform.libc_ver()[0]: glibc; empty on musl and outside Linux
    cache_tag: str | None  # sys.implementation.cache_tag: cpython-312

    @classmethod
    def this_one(cls) -> Host:
        return cls(
            platform.system(), platform.machine(), platform.libc_ver()[0], sys.implementation.cache_tag
        )


def why_no_bytecode(host: Host, target: Target) -> str | None:
    """None when `host` can import the handlers with the target's dependencies, which is how the
    build learns what each cold start loads; otherwise why the zips go without bytecode.

    A zip without bytecode is whole and correct: its cold starts compile what they import.
    Compiling without the probe was weighed and left out: every module would push the
    processor's zip past 10 MB, and our own package alone saves little (its 19 modules compile
    in about 16 ms here; pydantic's and powertools' are most of a cold start's compiling).
    """
    if host.cache_tag != target.cache_tag:
        return f"the build runs {host.cache_tag or 'a Python without bytecode'}, the functions {target.cache_tag}"
    # A native target's dependencies are resolved by the host for itself.
    if target.python is None and (host.system, host.machine.lower(), host.libc) != AWS_WHEELS_LOAD_ON:
        where = f"{host.system} {host.machine}" + (f" ({host.libc})" if host.libc else "")
        return f"{where} cannot load the functions' manylinux x86_64 wheels"
    return None


@dataclass(frozen=True)
class BuiltZip:
    name: str
    path: Path
    sha256: str

    @property
    def s3_key(self) -> str:
        return f"functions/{self.name}-{self.sha256[:16]}.zip"


def install_command(target: Target, lock: Path, site: Path) -> list[str]:
    """uv installing `lock` into `site` for `target`, each wheel checked against the lock's hashes.
    uv compiles no bytecode here: the build compiles what a cold start imports."""
    command = [
        find_uv_bin(),
        "pip",
        "install",
        "--quiet",
        "--require-hashes",
        "--target",
        str(site),
        "--requirement",
        str(lock),
    ]
    if target.python is None:
        # The AWS runtime: its manylinux x86_64 wheels, whatever Python and machine run the build.
        command += [
            "--python",
            sys.executable,
            "--python-platform",
            "x86_64-manylinux2014",
            "--python-version",
            target.version,
            "--only-binary",
            ":all:",
        ]
    else:
        command += ["--python", target.python]
    return command


def _install_dependencies(target: Target) -> Path:
    lock = LAMBDA_REQUIREMENTS.read_bytes()
    digest = hashlib.sha256(lock + target.tag.encode()).hexdigest()[:16]
    site = BUILD_DIR / f"deps-{target.tag}-{digest}"
    marker = site / ".complete"
    if marker.exists():
        return site
    command = install_command(target, LAMBDA_REQUIREMENTS, site)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise KitError(f"installing the Lambda dependencies failed: {result.stderr.strip()[-500:]}")
    marker.touch()
    return site


def _files(
    root: Path, excluded: tuple[str, ...], excluded_folders: tuple[str, ...] = ()
) -> Iterator[tuple[str, Path]]:
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or relative.as_posix() in INSTALLER_FILES:
            continue
        if relative.name in INSTALLER_RECORDS and relative.parent.name.endswith(".dist-info"):
            continue
        if SKIPPED_PARTS.intersection(relative.parts) or path.suffix in SKIPPED_SUFFIXES:
            continue
        top = relative.parts[0]
        if top in SKIPPED_TOP:
            continue
        if any(top == name or top.startswith((f"{name}-", f"{name}.")) for name in excluded):
            continue
        if relative.as_posix().startswith(excluded_folders):
            continue
        yield relative.as_posix(), path


def _imported_at_cold_start(function: FunctionZip, roots: tuple[Path, ...]) -> set[Path]:
    """The source files a fresh interpreter loads importing the handler modules the zip serves,
    and the modules they load later."""
    env = {"PATH": os.environ.get("PATH", "")} | IMPORT_ENVIRONMENT
    modules = function.handlers + function.loaded_later
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, ",".join(modules), *map(str, roots)],
        capture_output=True,
        text=True,
        env=env,
    )
    if result.returncode != 0:
        raise KitError(f"{function.handler_module} does not import: {result.stderr.strip()[-800:]}")
    return {Path(file) for file in json.loads(result.stdout)}


def _bytecode(
    function: FunctionZip, sources: list[tuple[str, Path]], target: Target, roots: tuple[Path, ...]
) -> list[tuple[str, Path]]:
    """(arcname, compiled file) for each module the cold start imports, compiled once into
    build/pyc/ by content. Only those: compiling everything would push the processor's zip
    (cryptography, all of powertools) past 10 MB for modules no cold start loads."""
    if why_no_bytecode(Host.this_one(), target) is not None:
        return []
    imported = _imported_at_cold_start(function, roots)
    cache = BUILD_DIR / "pyc" / target.cache_tag
    cache.mkdir(parents=True, exist_ok=True)
    compiled = []
    for arcname, path in sources:
        if not arcname.endswith(".py") or path not in imported:
            continue
        output = cache / f"{_bytecode_key(arcname, path.read_bytes())}.pyc"
        if not output.exists():
            partial = output.with_suffix(f".{os.getpid()}.tmp")
            py_compile.compile(
                str(path),
                cfile=str(partial),
                dfile=arcname,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            partial.replace(output)
        compiled.append((_bytecode_arcname(arcname, target), output))
    return compiled


def _write_archive(
    file: Path | BinaryIO, sources: list[tuple[str, Path]], level: int, mode: Literal["w", "a"] = "w"
) -> None:
    """Writes `sources` sorted, each with the same date and mode; `mode` "a" appends them to the
    archive already in `file`."""
    with zipfile.ZipFile(file, mode, compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for arcname, path in sorted(sources):
            info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())


def _write_zip(destination: Path, sources: list[tuple[str, Path]]) -> str:
    destination.parent.mkdir(parents=True, exist_ok=True)
    _write_archive(destination, sources, level=9)
    return hashlib.sha256(destination.read_bytes()).hexdigest()


class InMemoryZips:
    """The functions' zips for `make watch`, built in memory for `target`, lightly compressed.

    Nearly all of a zip is its dependencies (5 MB of the HTTP zip's 5.4), and a save changes none
    of them: that part, with the bytecode `make build` compiled for it, is written once per zip and
    dependency folder and kept. Each zip is a copy of it with the package from `source` appended,
    so a save reads and compresses our package only, never the 800-odd files of the others.
    """

    def __init__(self, target: Target) -> None:
        self.target = target
        self._dependencies: dict[tuple[str, Path], bytes] = {}

    def dependencies(self, zip_name: str) -> bytes:
        """The zip `zip_name` without our package: written on the first call, then kept."""
        function = next(f for f in FUNCTIONS if f.name == zip_name)
        site = _install_dependencies(self.target)  # a new lock gives a new folder, so a new part
        key = (zip_name, site)
        if key not in self._dependencies:
            sources = list(_files(site, function.excluded, function.excluded_folders))
            buffer = io.BytesIO()
            _write_archive(buffer, sources + _cached_bytecode(sources, self.target), level=1)
            self._dependencies[key] = buffer.getvalue()
        return self._dependencies[key]

    def zip(self, zip_name: str, source: Path) -> bytes:
        """The whole zip `zip_name`: the kept dependency part and the package as `source` has it now."""
        buffer = io.BytesIO(self.dependencies(zip_name))  # a copy: the kept part stays as it is
        package = list(_files(source, ()))
        # The bytecode `make build` compiled already, looked up, never compiled here: a changed
        # module goes without (its new worker compiles it, a few ms), the others' cold start does not.
        _write_archive(buffer, package + _cached_bytecode(package, self.target), level=1, mode="a")
        return buffer.getvalue()


def _cached_bytecode(sources: list[tuple[str, Path]], target: Target) -> list[tuple[str, Path]]:
    cache = BUILD_DIR / "pyc" / target.cache_tag
    if why_no_bytecode(Host.this_one(), target) is not None or not cache.is_dir():
        return []
    found = []
    for arcname, path in sources:
        if arcname.endswith(".py"):
            output = cache / f"{_bytecode_key(arcname, path.read_bytes())}.pyc"
            if output.exists():
                found.append((_bytecode_arcname(arcname, target), output))
    return found


def _bytecode_key(arcname: str, source: bytes) -> str:
    # the name is in the key: it is written into the bytecode (co_filename)
    return hashlib.sha256(arcname.encode() + b"\0" + source).hexdigest()


def _bytecode_arcname(arcname: str, target: Target) -> str:
    folder, _, module = arcname.rpartition("/")
    name = f"{module[:-3]}.{target.cache_tag}.pyc"
    return f"{folder}/__pycache__/{name}" if folder else f"__pycache__/{name}"


def zip_directory(source: Path, destination: Path) -> BuiltZip:
    """A zip of `source` alone (no dependencies), named after the destination's stem."""
    return BuiltZip(destination.stem, destination, _write_zip(destination, list(_files(source, ()))))


def zip_with_dependencies(
    source: Path, destination: Path, packages: tuple[str, ...], handler_modules: tuple[str, ...]
) -> BuiltZip:
    """A zip of `source` with these top-level packages of the locked Lambda dependencies (and
    their metadata), and the bytecode its handlers' cold start imports, as `build` gives the
    functions: for the benchmark's other chains."""
    site = _install_dependencies(AWS_TARGET)
    sources = list(_files(source, ()))
    sources += [
        (arcname, path)
        for arcname, path in _files(site, ())
        if arcname.split("/", 1)[0].split("-", 1)[0].split(".", 1)[0] in packages
    ]
    first, *others = handler_modules
    function = FunctionZip(destination.stem, first, also_handles=tuple(others))
    sources += _bytecode(function, sources, AWS_TARGET, (source, site))
    return BuiltZip(destination.stem, destination, _write_zip(destination, sources))


def _fingerprint(
    function: FunctionZip, code: list[tuple[str, Path]], site: Path, bytecode: str | None = None
) -> str:
    """What a zip is made of: this builder, the function, our code, the dependency folder (named
    by the lock and target), and whether bytecode rides along (`why_no_bytecode`). Equal
    fingerprints give equal zips, so an unchanged one is kept."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(repr((function, site.name, sys.version, bytecode)).encode())
    for arcname, path in code:
        digest.update(arcname.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(target: Target = AWS_TARGET) -> list[BuiltZip]:
    """Every function's zip in dist/; one whose inputs did not change since the last build is kept."""
    site = _install_dependencies(target)
    code = list(_files(LAMBDA_SOURCE, excluded=()))
    no_bytecode = why_no_bytecode(Host.this_one(), target)
    built = []
    for function in FUNCTIONS:
        path = DIST_DIR / f"{function.name}.zip"
        stamp = DIST_DIR / f".{function.name}.fingerprint"
        fingerprint = _fingerprint(function, code, site, no_bytecode)
        if path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            built.append(BuiltZip(function.name, path, hashlib.sha256(path.read_bytes()).hexdigest()))
            continue
        sources = code + list(_files(site, function.excluded, function.excluded_folders))
        sources += _bytecode(function, sources, target, (LAMBDA_SOURCE, site))
        built.append(BuiltZip(function.name, path, _write_zip(path, sources)))
        stamp.write_text(fingerprint)
    return built
