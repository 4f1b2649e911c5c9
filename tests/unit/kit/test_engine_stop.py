"""`make down` stops only the engine `make up` started, found through its pid file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap.engines import ministack


def fake_engine(directory: Path) -> subprocess.Popen[bytes]:
    """A long-lived process whose command line names ministack, deep in a long path (ps truncates
    narrow output, so the name must be found past 80 columns)."""
    script = directory / ("a-long-folder-name-" * 4) / "bin" / "ministack"
    script.parent.mkdir(parents=True)
    script.write_text("import time\ntime.sleep(60)\n")
    return subprocess.Popen([sys.executable, str(script)], start_new_session=True)


def test_down_stops_the_engine_named_in_the_pid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ministack, "PID_FILE", tmp_path / "engine.pid")
    process = fake_engine(tmp_path)
    ministack.PID_FILE.write_text(str(process.pid))

    assert ministack.stop() == process.pid

    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
    assert not ministack.PID_FILE.exists()


def test_down_leaves_alone_a_process_that_reused_the_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ministack, "PID_FILE", tmp_path / "engine.pid")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    ministack.PID_FILE.write_text(str(other.pid))
    try:
        assert ministack.stop() is None
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


@pytest.fixture
def ram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A RAM filesystem with room, and a pid file of the test's own."""
    folder = tmp_path / "shm"
    folder.mkdir()
    monkeypatch.setattr(ministack, "RAM_FILESYSTEM", folder)
    monkeypatch.setattr(ministack, "RAM_ROOM_NEEDED", 0)
    monkeypatch.setattr(ministack, "PID_FILE", tmp_path / "engine.pid")
    return folder


def test_the_engine_works_in_a_folder_of_its_own_in_memory_and_down_removes_it(ram: Path) -> None:
    scratch = ministack._new_scratch()
    assert scratch is not None
    assert scratch.parent == ram
    assert scratch.stat().st_mode & 0o777 == 0o700
    (scratch / "ministack-lambda-http-x" / "code").mkdir(parents=True)  # a worker's code folder
    process = fake_engine(ram.parent)
    ministack.PID_FILE.write_text(str(process.pid))

    assert ministack.stop() == process.pid

    assert not scratch.exists()
    assert list(ram.iterdir()) == []


def test_without_room_in_memory_the_engine_keeps_the_systems_temporary_folder(
    ram: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ministack, "RAM_ROOM_NEEDED", 1 << 62)
    assert ministack._new_scratch() is None

    monkeypatch.setattr(ministack, "RAM_ROOM_NEEDED", 0)
    monkeypatch.setattr(ministack, "RAM_FILESYSTEM", ram / "none-here")  # macOS has no /dev/shm
    assert ministack._new_scratch() is None
    assert list(ram.iterdir()) == []


def test_only_a_folder_the_kit_made_in_memory_is_removed(ram: Path) -> None:
    elsewhere = ram.parent / "rimac-engine-not-in-memory"
    elsewhere.mkdir()
    ministack.PID_FILE.with_name("engine-scratch").write_text(str(elsewhere))

    ministack.remove_scratch()

    assert elsewhere.exists()
    assert not ministack.PID_FILE.with_name("engine-scratch").exists()


def test_make_down_finds_an_engine_a_test_session_left_with_a_state_folder_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ministack, "STATE_DIR", tmp_path)
    own = tmp_path / "test-engines" / "restart"
    own.mkdir(parents=True)
    (own / "engine.pid").write_text("1")
    (tmp_path / "engine.pid").write_text("2")  # the kit's own: stopped by ministack.stop()

    assert ministack.other_engines() == [own / "engine.pid"]
