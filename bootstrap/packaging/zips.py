"""The Lambda zips built: each function's files, its dependencies and their bytecode, into dist/ (or in memory, for `make watch`)."""

from __future__ import annotations

import hashlib
import io
import sys
from pathlib import Path

from bootstrap.config import DIST_DIR, LAMBDA_SOURCE
from bootstrap.packaging.archive import BuiltZip, write_archive, write_zip
from bootstrap.packaging.bytecode import cached_bytecode, cold_start_bytecode
from bootstrap.packaging.manifest import FUNCTIONS, FunctionZip, zip_entries
from bootstrap.packaging.target import AWS_TARGET, Host, Target, install_dependencies, why_no_bytecode


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
        site = install_dependencies(self.target)  # a new lock gives a new folder, so a new part
        key = (zip_name, site)
        if key not in self._dependencies:
            sources = list(zip_entries(site, function.excluded, function.excluded_folders))
            buffer = io.BytesIO()
            write_archive(buffer, sources + cached_bytecode(sources, self.target), level=1)
            self._dependencies[key] = buffer.getvalue()
        return self._dependencies[key]

    def zip(self, zip_name: str, source: Path) -> bytes:
        """The whole zip `zip_name`: the kept dependency part and the package as `source` has it now."""
        buffer = io.BytesIO(self.dependencies(zip_name))  # a copy: the kept part stays as it is
        package = list(zip_entries(source, ()))
        # The bytecode `make build` compiled already, looked up, never compiled here: a changed
        # module goes without (its new worker compiles it, a few ms), the others' cold start does not.
        write_archive(buffer, package + cached_bytecode(package, self.target), level=1, mode="a")
        return buffer.getvalue()


def inputs_fingerprint(
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
    site = install_dependencies(target)
    code = list(zip_entries(LAMBDA_SOURCE, excluded=()))
    no_bytecode = why_no_bytecode(Host.this_one(), target)
    built = []
    for function in FUNCTIONS:
        path = DIST_DIR / f"{function.name}.zip"
        stamp = DIST_DIR / f".{function.name}.fingerprint"
        fingerprint = inputs_fingerprint(function, code, site, no_bytecode)
        if path.exists() and stamp.exists() and stamp.read_text() == fingerprint:
            built.append(BuiltZip(function.name, path, hashlib.sha256(path.read_bytes()).hexdigest()))
            continue
        sources = code + list(zip_entries(site, function.excluded, function.excluded_folders))
        sources += cold_start_bytecode(function, sources, target, (LAMBDA_SOURCE, site))
        built.append(BuiltZip(function.name, path, write_zip(path, sources)))
        stamp.write_text(fingerprint)
    return built


def zip_with_dependencies(
    source: Path, destination: Path, packages: tuple[str, ...], handler_modules: tuple[str, ...]
) -> BuiltZip:
    """A zip of `source` with these top-level packages of the locked Lambda dependencies (and
    their metadata), and the bytecode its handlers' cold start imports, as `build` gives the
    functions: for the benchmark's other chains."""
    site = install_dependencies(AWS_TARGET)
    sources = list(zip_entries(source, ()))
    sources += [
        (arcname, path)
        for arcname, path in zip_entries(site, ())
        if arcname.split("/", 1)[0].split("-", 1)[0].split(".", 1)[0] in packages
    ]
    first, *others = handler_modules
    function = FunctionZip(destination.stem, first, also_handles=tuple(others))
    sources += cold_start_bytecode(function, sources, AWS_TARGET, (source, site))
    return BuiltZip(destination.stem, destination, write_zip(destination, sources))
