"""The locks carry a hash for every pin, and what installs from them refuses a file whose hash is
not the lock's: the build's uv command (the Lambda zips' dependencies) and the virtualenvs'.

The installs run uv offline against a wheel the test makes, from a folder, with a cache of its own.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from uv import find_uv_bin

from bootstrap import packaging
from bootstrap.config import ROOT

REQUIREMENTS = ROOT / "requirements"
LOCKS = sorted(REQUIREMENTS.glob("*.txt"))
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}\b")


def pins_and_hashes(lock: Path) -> dict[str, int]:
    """Each pin of a lock (name==version) and how many hashes follow it."""
    found: dict[str, int] = {}
    current = None
    for line in lock.read_text().splitlines():
        if match := PIN.match(line):
            current = f"{match.group(1)}=={match.group(2)}"
            found[current] = 0
        elif current and line.strip().startswith("--hash="):
            assert HASH.fullmatch(line.strip().rstrip(" \\")), line
            found[current] += 1
    return found


def test_every_input_has_its_lock_and_nothing_else_is_one() -> None:
    assert [lock.stem for lock in LOCKS] == sorted(path.stem for path in REQUIREMENTS.glob("*.in"))


@pytest.mark.parametrize("lock", LOCKS, ids=lambda path: path.name)
def test_every_pin_of_a_lock_carries_its_hashes(lock: Path) -> None:
    pins = pins_and_hashes(lock)

    assert pins, f"{lock.name} pins nothing"
    assert [pin for pin, hashes in pins.items() if hashes == 0] == []
    # a lock is complete on its own: no file it includes could bring pins without hashes
    assert not re.search(r"^\s*-[rc]\s", lock.read_text(), re.MULTILINE)


def test_the_kit_and_its_bootstrap_use_the_uv_the_bootstrap_lock_pins() -> None:
    pinned = {pin for pin in pins_and_hashes(REQUIREMENTS / "uv.txt") if pin.startswith("uv==")}
    for lock in ("dev.txt", "bootstrap.txt"):
        assert pinned <= set(pins_and_hashes(REQUIREMENTS / lock)), lock


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(folder: Path) -> Path:
    """A pure-Python wheel, `tiny 1.0`, as a build backend would write it."""
    files = {
        "tiny/__init__.py": b"ANSWER = 42\n",
        "tiny-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tiny\nVersion: 1.0\n",
        "tiny-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in files.items())
    files["tiny-1.0.dist-info/RECORD"] = (record + "tiny-1.0.dist-info/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def offline(tmp_path: Path) -> dict[str, str]:
    """uv with no network, an empty cache of its own and no Python download."""
    return os.environ | {
        "UV_OFFLINE": "1",
        "UV_CACHE_DIR": str(tmp_path / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_CONFIG": "1",
    }


def a_lock(tmp_path: Path, digest: str) -> Path:
    lock = tmp_path / "lock.txt"
    lock.write_text(f"tiny==1.0 \\\n    --hash=sha256:{digest}\n")
    return lock


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    return make_wheel(tmp_path / "wheels").parent


def the_wheels_hash(wheels: Path) -> str:
    return hashlib.sha256((wheels / "tiny-1.0-py3-none-any.whl").read_bytes()).hexdigest()


def tampered(digest: str) -> str:
    return ("0" if digest[0] != "0" else "1") + digest[1:]


TARGETS = [
    packaging.AWS_TARGET,
    packaging.Target(version="{}.{}".format(*sys.version_info[:2]), python=sys.executable),
]


def build_install(
    tmp_path: Path, wheels: Path, lock: Path, target: packaging.Target
) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "site"
    command = [*packaging.install_command(target, lock, site), "--no-index", "--find-links", str(wheels)]
    return subprocess.run(command, capture_output=True, text=True, env=offline(tmp_path), timeout=120)


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.tag)
def test_the_build_installs_a_file_whose_hash_is_the_locks(
    tmp_path: Path, wheels: Path, target: packaging.Target
) -> None:
    done = build_install(tmp_path, wheels, a_lock(tmp_path, the_wheels_hash(wheels)), target)

    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "tiny" / "__init__.py").read_text() == "ANSWER = 42\n"


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.tag)
def test_the_build_refuses_a_file_whose_hash_is_not_the_locks(
    tmp_path: Path, wheels: Path, target: packaging.Target
) -> None:
    done = build_install(tmp_path, wheels, a_lock(tmp_path, tampered(the_wheels_hash(wheels))), target)

    assert done.returncode != 0
    assert "Hash mismatch for `tiny==1.0`" in done.stderr, done.stderr
    assert not (tmp_path / "site" / "tiny").exists()


def test_the_build_refuses_a_lock_with_a_pin_without_hashes(tmp_path: Path, wheels: Path) -> None:
    lock = tmp_path / "lock.txt"
    lock.write_text("tiny==1.0\n")

    done = build_install(tmp_path, wheels, lock, packaging.AWS_TARGET)

    assert done.returncode != 0
    assert "all requirements must have a hash" in done.stderr, done.stderr


def makefile_sync(tmp_path: Path) -> list[str]:
    """How the Makefile fills a virtualenv from its lock: its `pip sync` line, with uv's path."""
    line = next(
        line.strip()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if "$(UV) pip sync" in line and "$(VENV)/bin/python" in line
    )
    words = line.lstrip("@").replace("$(VENV)", str(tmp_path / "venv")).split()
    assert words[:3] == ["$(UV)", "pip", "sync"], line
    return [find_uv_bin(), *words[1:]]


@pytest.mark.parametrize("tamper", [False, True], ids=["locked hash", "tampered hash"])
def test_a_virtualenv_takes_only_what_its_lock_hashes(tmp_path: Path, wheels: Path, tamper: bool) -> None:
    env = offline(tmp_path)
    subprocess.run(
        [find_uv_bin(), "venv", "--quiet", "--python", sys.executable, str(tmp_path / "venv")],
        check=True,
        env=env,
        timeout=60,
    )
    digest = the_wheels_hash(wheels)
    lock = a_lock(tmp_path, tampered(digest) if tamper else digest)
    command = [*makefile_sync(tmp_path)[:-1], str(lock), "--no-index", "--find-links", str(wheels)]

    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)

    installed = list((tmp_path / "venv").glob("lib/python*/site-packages/tiny/__init__.py"))
    if tamper:
        assert done.returncode != 0
        assert "Hash mismatch for `tiny==1.0`" in done.stderr, done.stderr
        assert installed == []
    else:
        assert done.returncode == 0, done.stderr
        assert len(installed) == 1
