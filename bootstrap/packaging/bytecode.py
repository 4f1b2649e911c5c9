"""The bytecode that rides in a zip: which modules a cold start loads (found by importing the handlers), compiled for the target's Python, kept between builds."""

from __future__ import annotations

import hashlib
import json
import os
import py_compile
import subprocess
import sys
from pathlib import Path

from bootstrap import names
from bootstrap.config import BUILD_DIR, KitError
from bootstrap.packaging.manifest import FunctionZip
from bootstrap.packaging.target import Host, Target, why_no_bytecode

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
    "SWEEP_TABLE_NAME": "sweep",
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


def cold_start_bytecode(
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
        output = cache / f"{bytecode_key(arcname, path.read_bytes())}.pyc"
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


def cached_bytecode(sources: list[tuple[str, Path]], target: Target) -> list[tuple[str, Path]]:
    cache = BUILD_DIR / "pyc" / target.cache_tag
    if why_no_bytecode(Host.this_one(), target) is not None or not cache.is_dir():
        return []
    found = []
    for arcname, path in sources:
        if arcname.endswith(".py"):
            output = cache / f"{bytecode_key(arcname, path.read_bytes())}.pyc"
            if output.exists():
                found.append((_bytecode_arcname(arcname, target), output))
    return found


def bytecode_key(arcname: str, source: bytes) -> str:
    # the name is in the key: it is written into the bytecode (co_filename)
    return hashlib.sha256(arcname.encode() + b"\0" + source).hexdigest()


def _bytecode_arcname(arcname: str, target: Target) -> str:
    folder, _, module = arcname.rpartition("/")
    name = f"{module[:-3]}.{target.cache_tag}.pyc"
    return f"{folder}/__pycache__/{name}" if folder else f"__pycache__/{name}"
