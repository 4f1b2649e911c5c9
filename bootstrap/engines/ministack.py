"""Runs the Docker-free local cloud (ministack) in the background, from its own virtualenv."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bootstrap import packaging
from bootstrap.config import (
    ENGINE_VENV,
    PRIVATE_UMASK,
    STATE_DIR,
    KitConfig,
    KitError,
    open_private,
    private_dir,
)

PID_FILE = STATE_DIR / "engine.pid"
LOG_FILE = STATE_DIR / "engine.log"
PERSISTED_STATE = STATE_DIR / "engine-state"
PERSISTED_S3 = STATE_DIR / "engine-s3"
READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0
# The engine's temporary folder. It extracts each Lambda worker's code into a folder of its own
# (the HTTP zip: about 900 files, 16 MB) and deletes it when the worker stops: UpdateFunctionCode
# deletes every old worker's before it answers, and the engine answers nothing else meanwhile. On
# the 2-core machine of the README a folder took 0.2-0.4 s to delete and 0.4-0.6 s to extract on
# its disk, 15 ms and 0.2 s in memory. So the engine works in a folder of its own on the RAM
# filesystem where there is one with room (Linux's /dev/shm), and stopping it removes the folder.
RAM_FILESYSTEM = Path("/dev/shm")  # noqa: S108 (a folder made by mkdtemp in it, this user's alone)
RAM_ROOM_NEEDED = 2 * 1024**3  # the 18 workers `make up` starts take about 0.5 GB there
SCRATCH_PREFIX = "rimac-engine-"


@dataclass(frozen=True)
class EngineFiles:
    """Where an engine keeps its pid file, log and saved state: .local/ for the kit's, another
    folder (LOCAL_STATE_DIR) for a second engine on another port."""

    folder: Path

    @property
    def pid(self) -> Path:
        return self.folder / PID_FILE.name

    @property
    def log(self) -> Path:
        return self.folder / LOG_FILE.name

    @property
    def state(self) -> Path:
        return self.folder / PERSISTED_STATE.name

    @property
    def s3(self) -> Path:
        return self.folder / PERSISTED_S3.name


def files_of(config: KitConfig) -> EngineFiles:
    return EngineFiles(config.state_dir)


@dataclass(frozen=True)
class EngineStatus:
    started: bool  # True when this call started it, False when it was already running
    pid: int | None
    python_version: str


def engine_python() -> Path:
    return ENGINE_VENV / "bin" / "python"


def engine_python_version() -> str:
    python = engine_python()
    if not python.exists():
        raise KitError(f"the engine virtualenv is missing ({ENGINE_VENV}); run `make up`")
    out = subprocess.run(
        [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def zip_target(config: KitConfig, python_version: str | None = None) -> packaging.Target:
    """What the local zips are built for. LocalStack runs the AWS runtime; ministack runs the
    functions on its own interpreter, the AWS runtime's Python when it is a 3.12."""
    if config.engine == "localstack":
        return packaging.AWS_TARGET
    version = python_version or engine_python_version()
    if version == packaging.AWS_TARGET.version:
        return packaging.AWS_TARGET
    return packaging.Target(version=version, python=str(engine_python()))


def engine_version() -> str:
    """The installed ministack's version, as its virtualenv reports it."""
    out = subprocess.run(
        [str(engine_python()), "-c", "import importlib.metadata as m; print(m.version('ministack'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def is_ready(config: KitConfig, timeout: float = 1.0) -> bool:
    try:
        url = f"{config.endpoint}/_ministack/health"  # always http on loopback
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return response.status == 200 and "services" in json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _port_taken(config: KitConfig) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((config.engine_host, config.engine_port)) == 0


def _read_pid(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    command = subprocess.run(["ps", "-ww", "-o", "command=", "-p", str(pid)], capture_output=True, text=True)
    # A stale pid file may name a pid that now belongs to another program.
    return pid if "ministack" in command.stdout else None


def _gone(pid: int) -> bool:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reap it when it is our own child (tests start the engine)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _log_tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _scratch_record(pid_file: Path) -> Path:
    """Names the engine's folder in memory; beside its pid file, as each engine has its own."""
    return pid_file.with_name("engine-scratch")


def _new_scratch(pid_file: Path | None = None) -> Path | None:
    """A folder of this user's alone on the RAM filesystem for the engine about to start, or None
    (the system's temporary folder) where there is none or it has too little room."""
    try:
        room = os.statvfs(RAM_FILESYSTEM)
    except OSError:
        return None
    if room.f_bavail * room.f_frsize < RAM_ROOM_NEEDED or not os.access(RAM_FILESYSTEM, os.W_OK | os.X_OK):
        return None
    folder = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=RAM_FILESYSTEM))  # mode 0700
    with open_private(_scratch_record(PID_FILE if pid_file is None else pid_file)) as record:
        record.write(str(folder))
    return folder


def remove_scratch(pid_file: Path | None = None) -> None:
    """Removes the folder in memory the last engine (of that pid file, the kit's by default)
    worked in, if it is one this kit made."""
    record = _scratch_record(PID_FILE if pid_file is None else pid_file)
    try:
        folder = Path(record.read_text().strip())
    except OSError:
        return
    if folder.parent == RAM_FILESYSTEM and folder.name.startswith(SCRATCH_PREFIX):
        shutil.rmtree(folder, ignore_errors=True)
    record.unlink(missing_ok=True)


def start(config: KitConfig) -> EngineStatus:
    files = files_of(config)
    if is_ready(config):
        return EngineStatus(started=False, pid=_read_pid(files.pid), python_version=engine_python_version())
    if _port_taken(config):
        raise KitError(
            f"port {config.engine_port} is taken by a program that is not the local engine; "
            f"stop it, or choose another port: make up ENGINE_PORT={config.engine_port + 1}"
        )
    version = engine_python_version()
    private_dir(files.folder)
    if _read_pid(files.pid) is None:
        remove_scratch(files.pid)  # left by an engine that was killed rather than stopped
    env = {
        **os.environ,
        "GATEWAY_PORT": str(config.engine_port),
        "BIND_HOST": config.engine_host,
        "AWS_DEFAULT_REGION": config.region,
        # Its functions compile what their zip carries no bytecode for on each cold start and keep
        # none, as on Lambda, whose code folder is read-only.
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    scratch = _new_scratch(files.pid)
    if scratch is not None:
        env["TMPDIR"] = str(scratch)  # its workers' code folders; its Lambdas' temporary files
    if config.persist:
        # Saved when the engine stops (make down, SIGTERM) and loaded when it starts; a killed
        # engine (SIGKILL, a crash) loses what happened since it started.
        env |= {
            "PERSIST_STATE": "1",
            "STATE_DIR": str(files.state),
            "S3_PERSIST": "1",
            "S3_DATA_DIR": str(files.s3),
        }
    with open_private(files.log, "ab") as log:
        process = subprocess.Popen(
            [str(ENGINE_VENV / "bin" / "ministack")],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=files.folder,
            start_new_session=True,  # its Lambda workers share its process group, stopped together
            umask=PRIVATE_UMASK,  # its saved state holds the SecureStrings in plain text
        )
    with open_private(files.pid) as pid_file:
        pid_file.write(str(process.pid))
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            files.pid.unlink(missing_ok=True)
            remove_scratch(files.pid)
            raise KitError(
                f"the local engine exited with code {process.returncode}; its log ({files.log}) ends with:\n"
                + _log_tail(files.log)
            )
        if is_ready(config, timeout=0.5):
            return EngineStatus(started=True, pid=process.pid, python_version=version)
        time.sleep(0.1)
    stop(config)
    raise KitError(f"the local engine did not answer within {READY_TIMEOUT_SECONDS:.0f} s; see {files.log}")


def other_engines() -> list[Path]:
    """The pid files of the engines started with a state folder of their own under .local/ (the
    restart test's), each stopped by its session, listed for `make down` in case one was not."""
    return sorted(STATE_DIR.glob(f"*/*/{PID_FILE.name}"))


def stop(config: KitConfig | None = None) -> int | None:
    """Stop the engine this kit started (by its pid file: the config's, the kit's own for None);
    returns its pid, or None if none ran."""
    return stop_by_pid_file(PID_FILE if config is None else files_of(config).pid)


def stop_by_pid_file(pid_file: Path) -> int | None:
    pid = _read_pid(pid_file)
    pid_file.unlink(missing_ok=True)
    if pid is None:
        return None
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _gone(pid):
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    remove_scratch(pid_file)
    return pid
