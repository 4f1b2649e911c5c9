"""LocalStack and MySQL 8.4 through docker-compose, for machines with a Docker engine.

The same bootstrap provisions them: the kit runs it from the host once both containers are
healthy (the compose file's `provision` service does the same from a container).
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bootstrap.config import COMPOSE_FILE, DOTENV, STATE_DIR, KitConfig, KitError, private_dir, read_dotenv

COMPOSE_MARKER = STATE_DIR / "compose-started"
SERVICES = ("localstack", "mysql")
NETWORK = "rimac-appointments"  # the compose file's network, which the functions' containers join
LICENCE_EXIT_CODE = 55  # any licence activation failure, not only a missing token
LOG_TAIL_LINES = 12  # enough for LocalStack's licence report, which names the reason
DEFAULT_DOCKER_SOCKET = "/var/run/docker.sock"
TOKEN_HELP = (
    "get a token at https://app.localstack.cloud (a free non-commercial one exists) and put "
    f"LOCALSTACK_AUTH_TOKEN=... in {DOTENV.name} (see .env.example), or run without Docker: make up ENGINE=ministack"
)


def auth_token(environ: Mapping[str, str], dotenv: Path = DOTENV) -> str:
    """The token from the environment, else from .env; one line with the way out when neither has it."""
    token = environ.get("LOCALSTACK_AUTH_TOKEN") or read_dotenv(dotenv).get("LOCALSTACK_AUTH_TOKEN", "")
    if not token:
        raise KitError(
            f"LOCALSTACK_AUTH_TOKEN is not set; LocalStack images need one since March 2026: {TOKEN_HELP}"
        )
    return token


def docker_socket(environ: Mapping[str, str]) -> str:
    """The Docker engine's socket on this host, which LocalStack needs to start the functions'
    containers: DOCKER_SOCK, else the path of a unix:// DOCKER_HOST (rootless Docker and Podman
    set one), else Docker's usual socket."""
    if environ.get("DOCKER_SOCK"):
        return environ["DOCKER_SOCK"]
    host = environ.get("DOCKER_HOST", "")
    return host.removeprefix("unix://") if host.startswith("unix://") else DEFAULT_DOCKER_SOCKET


def compose_environment(environ: Mapping[str, str], token: str) -> dict[str, str]:
    """What `docker compose` is run with: the caller's environment, the token and the socket."""
    return {**environ, "LOCALSTACK_AUTH_TOKEN": token, "DOCKER_SOCK": docker_socket(environ)}


def _ps_entries(listing: str) -> list[Any]:
    """`docker compose ps --format json` output: older Compose prints one JSON array, newer one
    object a line."""
    try:
        parsed = json.loads(listing)
    except ValueError:
        parsed = []
        for line in listing.splitlines():
            try:
                parsed.append(json.loads(line))
            except ValueError:
                continue  # a warning Compose printed among the objects
    return parsed if isinstance(parsed, list) else [parsed]


def exit_code_from_ps(listing: str, service: str = "localstack") -> int | None:
    """The exit code of `service`'s container when it has exited; None while it runs or when absent."""
    for entry in _ps_entries(listing):
        if not isinstance(entry, dict) or entry.get("Service", service) != service:
            continue
        if str(entry.get("State", "")).lower() not in ("exited", "dead"):
            return None
        code = entry.get("ExitCode")
        return code if isinstance(code, int) else None
    return None


def exit_code_from_compose_output(output: str, service: str = "localstack") -> int | None:
    """The exit code in `up --wait`'s own report ("container <project>-<service>-1 exited (55)"),
    for when the container is already gone and `ps` cannot say."""
    found = re.search(rf"container \S*{re.escape(service)}\S* exited \((\d+)\)", output)
    return int(found.group(1)) if found else None


def exit_message(exit_code: int | None, log: str = "") -> str:
    """One line saying what happened and what to do, then the last lines of LocalStack's log."""
    if exit_code == LICENCE_EXIT_CODE:
        headline = (
            "LocalStack exited with code 55, a licence activation failure: the auth token is missing or "
            "invalid, no licence is assigned to its user (app.localstack.cloud, Users & Licenses), or the "
            f"container cannot reach LocalStack's licence server; {TOKEN_HELP}"
        )
    elif exit_code is not None:
        headline = f"LocalStack exited with code {exit_code}; see: docker compose logs localstack"
    else:
        headline = "LocalStack and MySQL did not become healthy in time; see: docker compose logs localstack"
    tail = [line.rstrip() for line in log.splitlines() if line.strip()][-LOG_TAIL_LINES:]
    if not tail:
        return headline
    return "\n".join(
        [headline, "  last lines of `docker compose logs localstack`:", *(f"  | {t}" for t in tail)]
    )


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), *args], capture_output=True, text=True, env=env
    )


def failure_message(compose_output: str, ps_listing: str, log: str) -> str:
    """Why the compose project did not come up, from what Compose said: LocalStack's exit code
    from `ps --all --format json`, else from `up`'s own output, and the tail of its log."""
    exit_code = exit_code_from_ps(ps_listing)
    if exit_code is None:
        exit_code = exit_code_from_compose_output(compose_output)
    return exit_message(exit_code, log)


def failed_command_output(error: subprocess.CalledProcessError) -> str:
    """What a failed `docker compose up` printed, whether it was run for text or for bytes (as
    testcontainers runs it)."""
    streams = (error.stdout, error.stderr)
    return "".join(s.decode(errors="replace") if isinstance(s, bytes) else s or "" for s in streams)


def start_failure(compose_output: str = "") -> str:
    """Why the compose project did not come up, read while its containers still exist (`make up`
    and the tests' testcontainers fixture both call it before anything tears them down)."""
    ps = _compose("ps", "--all", "--format", "json", "localstack")
    log = _compose("logs", "--no-color", "--no-log-prefix", "--tail", str(LOG_TAIL_LINES), "localstack")
    return failure_message(compose_output, ps.stdout, log.stdout)


def is_ready(config: KitConfig) -> bool:
    try:
        with urllib.request.urlopen(f"{config.endpoint}/_localstack/health", timeout=2) as response:  # noqa: S310
            return response.status == 200 and "services" in json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return False


def start(config: KitConfig, environ: dict[str, str]) -> bool:
    """Bring up LocalStack and MySQL and wait for their health checks; True when this call started them."""
    if is_ready(config):
        return False
    env = compose_environment(environ, auth_token(environ))
    result = _compose("up", "--detach", "--wait", *SERVICES, env=env)
    if result.returncode != 0:
        raise KitError(start_failure(result.stdout + result.stderr))
    private_dir(STATE_DIR)
    COMPOSE_MARKER.touch()
    return True


def stop() -> bool:
    """`docker compose down`, only when `make up` started the compose project: its containers,
    network and volumes (MySQL's data, so the next `make up` initialises it again) go, and a
    failure is reported instead of passing for a stop."""
    if not COMPOSE_MARKER.exists():
        return False
    result = _compose("down", "--volumes", "--remove-orphans")
    if result.returncode != 0:
        raise KitError(
            f"docker compose down failed ({result.stderr.strip()[-400:]}); containers of the functions "
            f"that LocalStack started may still be on its network: docker ps --filter network={NETWORK}"
        )
    COMPOSE_MARKER.unlink()
    return True
