"""What each Lambda zip holds: its handlers, the dependencies it leaves out, the files no zip carries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bootstrap import names

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
# Idempotency-Key (appointments/http/), and no other request.
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


def zip_entries(
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
