"""`make down` stops only the engine `make up` started, found through its pid file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap import engine


def fake_engine(directory: Path) -> subprocess.Popen[bytes]:
    """A long-lived process whose command line names ministack, deep in a long path (ps truncates
    narrow output, so the name must be found past 80 columns)."""
    script = directory / ("a-long-folder-name-" * 4) / "bin" / "ministack"
    script.parent.mkdir(parents=True)
    script.write_text("import time\ntime.sleep(60)\n")
    return subprocess.Popen([sys.executable, str(script)], start_new_session=True)


def test_down_stops_the_engine_named_in_the_pid_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "PID_FILE", tmp_path / "engine.pid")
    process = fake_engine(tmp_path)
    engine.PID_FILE.write_text(str(process.pid))

    assert engine.stop() == process.pid

    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
    assert not engine.PID_FILE.exists()


def test_down_leaves_alone_a_process_that_reused_the_pid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "PID_FILE", tmp_path / "engine.pid")
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    engine.PID_FILE.write_text(str(other.pid))
    try:
        assert engine.stop() is None
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
