"""The Python the zips are built for (AWS's python3.12, or the local engine's), the host that builds them, and the install of the locked dependencies for it."""

from __future__ import annotations

import hashlib
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from uv import find_uv_bin

from bootstrap.config import BUILD_DIR, LAMBDA_REQUIREMENTS, KitError


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


def install_dependencies(target: Target) -> Path:
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
