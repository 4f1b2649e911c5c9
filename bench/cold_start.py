"""Cold start of each function: a fresh interpreter importing the handler module from the built zip.

Usage: .venv/bin/python -m bench.cold_start [--runs 5]   (after `make build` or `make up`)

The zip is extracted to a temporary folder and imported by the engine's Python (the Lambda
runtime's version, with boto3 beside it as the runtime provides) with bytecode writing off, as
on Lambda where the code folder is read-only. "Import to ready" is the handler module's import:
our code, its dependencies, boto3, the clients and the settings, everything done before the first
event. The interpreter's own start is reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench import baseline, plain
from bootstrap.config import DIST_DIR
from bootstrap.engines.ministack import engine_python
from bootstrap.packaging import FUNCTIONS, zip_directory
from bootstrap.packaging.bytecode import IMPORT_ENVIRONMENT

PROBE = (
    "import time, importlib, sys; t = time.perf_counter(); importlib.import_module(sys.argv[1]); "
    "print(time.perf_counter() - t)"
)


def import_seconds(folder: Path, module: str) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(folder)} | IMPORT_ENVIRONMENT
    out = subprocess.run(
        [str(engine_python()), "-c", PROBE, module], env=env, capture_output=True, text=True, cwd=folder
    )
    if out.returncode != 0:
        raise SystemExit(f"importing {module} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip())


def interpreter_seconds(runs: int) -> float:
    """A bare `python -c pass` of the engine's interpreter, for scale."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(engine_python()), "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def import_ms(archive: Path, module: str, runs: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        zipfile.ZipFile(archive).extractall(folder)
        return [import_seconds(Path(folder), module) * 1000 for _ in range(runs)]


def measure(runs: int) -> dict[str, Any]:
    """Each function's import, the plain design's in its place (boto3, its clients, PyMySQL for
    the processor), and the no-op function's: boto3 and its client, the floor any Python function
    that calls AWS pays on this machine."""
    noop = zip_directory(baseline.SOURCE, DIST_DIR / "noop.zip").path
    plain_zip = plain.build_zip().path
    results = {}
    for function in FUNCTIONS:
        archive = DIST_DIR / f"{function.name}.zip"
        if not archive.exists():
            raise SystemExit(f"{archive} is missing: run `make build` first")
        ours = import_ms(archive, function.handler_module, runs)
        floor = import_ms(noop, function.handler_module, runs)
        plain_ms = import_ms(plain_zip, function.handler_module, runs)
        results[function.name] = {
            "import_ms_median": round(statistics.median(ours), 1),
            "import_ms_max": round(max(ours), 1),
            "plain_import_ms_median": round(statistics.median(plain_ms), 1),
            "noop_import_ms_median": round(statistics.median(floor), 1),
            "zip_mb": round(archive.stat().st_size / 1e6, 2),
        }
    return {"functions": results, "interpreter_start_ms": round(interpreter_seconds(runs) * 1000, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(measure(args.runs), indent=2))


if __name__ == "__main__":
    main()
