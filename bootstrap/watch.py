"""`make watch`: redeploy a function's code a moment after a saved change, without the stack.

Only the functions whose entry point imports the changed module are rebuilt (the import graph of
the `appointments` package, read from the source), and each gets UpdateFunctionCode, which restarts
its warm worker, then one invocation that starts the new worker (bootstrap/warm.py), so the next
request does not wait for its cold start. A file that does not parse (saved half-typed) is named
with its line and skipped until the next save. CloudFormation is not involved: the next `make up`
deploys the same code again under its content hash.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bootstrap import build, engine, names, warm
from bootstrap.config import LAMBDA_SOURCE, KitConfig
from bootstrap.stack_queries import stack_outputs

PACKAGE = "appointments"
POLL_SECONDS = 0.05  # a look at the package's files takes about a millisecond


def module_name(source: Path, path: Path) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(source: Path, module: str) -> set[str]:
    path = source / Path(*module.split("."))
    file = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    try:
        status = file.stat()
    except FileNotFoundError:
        return set()
    return set(_parsed_imports(file, status.st_mtime_ns, status.st_size))


@functools.lru_cache(maxsize=1024)
def _parsed_imports(file: Path, mtime_ns: int, size: int) -> frozenset[str]:
    """The package's modules `file` imports, parsed again only when it was saved since (a
    SyntaxError is not kept: the next look parses the file again)."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith(PACKAGE)}
    return frozenset(found)


def closure(source: Path, module: str) -> set[str]:
    """Every module of the package that `module` imports, directly or not, and itself."""
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += list(_imports(source, current))
    return seen


def affected_zips(source: Path, changed: set[Path]) -> list[str]:
    """The zips holding a handler module that imports one of the changed modules."""
    modules = {module_name(source, path) for path in changed}
    return [
        name
        for name in names.ZIPS
        if any(modules & closure(source, entry) for entry in names.handler_modules(name))
    ]


def _snapshot(source: Path) -> dict[Path, int]:
    times = {}
    for path in source.rglob("*.py"):
        if "__pycache__" not in path.parts:
            try:
                times[path] = path.stat().st_mtime_ns
            except FileNotFoundError:  # an editor replacing the file as it saves
                continue
    return times


def changes(source: Path) -> Iterator[set[Path]]:
    """Yields the set of .py files changed since the last look, whenever it is not empty."""
    before = _snapshot(source)
    while True:
        time.sleep(POLL_SECONDS)
        now = _snapshot(source)
        changed = {path for path in now.keys() | before.keys() if now.get(path) != before.get(path)}
        before = now
        if changed:
            yield changed


def reload(
    client: Any, outputs: dict[str, str], source: Path, zips: build.InMemoryZips, changed: set[Path]
) -> str:
    """Redeploys and warms the functions the change reaches; one line saying what happened."""
    began = time.monotonic()
    files = ", ".join(sorted(str(path.relative_to(source)) for path in changed))
    try:
        zip_names = affected_zips(source, changed)
    except SyntaxError as error:
        where = f"{error.filename}:{error.lineno}" if error.lineno else str(error.filename)
        return f"{where}: {error.msg}; not reloaded, waiting for the next save"
    reloaded: dict[str, names.Function] = {}
    for zip_name in zip_names:
        code = zips.zip(zip_name, source)
        for function in names.functions_in(zip_name):
            client.update_function_code(FunctionName=outputs[function.output], ZipFile=code)
            reloaded[outputs[function.output]] = function
    if not reloaded:
        return f"{files} changed; no function imports it"
    took = time.monotonic() - began
    try:
        warmed = f", warm {warm.warm(client, reloaded, workers=1):.2f}s later"
    except Exception as error:  # the new code may fail: say so, and keep watching
        warmed = f"; its first invocation failed: {error}"
    return f"reloaded {', '.join(reloaded)} in {took:.2f}s after {files}{warmed}"


def watch(config: KitConfig, source: Path = LAMBDA_SOURCE) -> None:
    outputs = stack_outputs(config)
    zips = build.InMemoryZips(engine.zip_target(config))
    # What a save never changes, made before the first: each zip's dependency part, the import graph.
    for zip_name in names.ZIPS:
        zips.dependencies(zip_name)
    with contextlib.suppress(SyntaxError):  # a file that does not parse is named by the reload reading it
        affected_zips(source, set())
    client = config.client("lambda")
    print(f"watching {source} for changes (Ctrl-C to stop)", flush=True)
    for changed in changes(source):
        print(reload(client, outputs, source, zips, changed), flush=True)
