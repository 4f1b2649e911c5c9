"""LocalStack and MySQL 8.4 through docker-compose, for machines with a Docker engine.

The same bootstrap provisions them: the kit runs it from the host once both containers are
healthy (the compose file's `provision` service does the same from a container).
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

from bootstrap.config import COMPOSE_FILE, DOTENV, STATE_DIR, KitConfig, KitError, read_dotenv

COMPOSE_MARKER = STATE_DIR / "compose-started"
SERVICES = ("localstack", "mysql")
TOKEN_REFUSED_EXIT_CODE = 55
TOKEN_HELP = (
    "get a token at https://app.localstack.cloud (a free non-commercial one exists) and put "
    f"LOCALSTACK_AUTH_TOKEN=... in {DOTENV.name} (see .env.example), or run without Docker: make up ENGINE=ministack"
)


def auth_token(environ: dict[str, str], dotenv: Path = DOTENV) -> str:
    """The token from the environment, else from .env; one line with the way out when neither has it."""
    token = environ.get("LOCALSTACK_AUTH_TOKEN") or read_dotenv(dotenv).get("LOCALSTACK_AUTH_TOKEN", "")
    if not token:
        raise KitError(
            f"LOCALSTACK_AUTH_TOKEN is not set; LocalStack images need one since March 2026: {TOKEN_HELP}"
        )
    return token


def exit_message(exit_code: int | None) -> str:
    if exit_code == TOKEN_REFUSED_EXIT_CODE:
        return f"LocalStack refused the auth token (exit code 55): {TOKEN_HELP}"
    return f"LocalStack did not become healthy (exit code {exit_code}); see: docker compose logs localstack"


def _compose(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), *args], capture_output=True, text=True, env=env
    )


def _localstack_exit_code() -> int | None:
    listed = _compose("ps", "--all", "--format", "json", "localstack")
    for line in listed.stdout.splitlines():
        try:
            return int(json.loads(line).get("ExitCode"))
        except (ValueError, TypeError):
            continue
    return None


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
    token = auth_token(environ)
    result = _compose("up", "--detach", "--wait", *SERVICES, env={**environ, "LOCALSTACK_AUTH_TOKEN": token})
    if result.returncode != 0:
        raise KitError(exit_message(_localstack_exit_code()))
    STATE_DIR.mkdir(exist_ok=True)
    COMPOSE_MARKER.touch()
    return True


def stop() -> bool:
    """`docker compose down`, only when `make up` started the compose project."""
    if not COMPOSE_MARKER.exists():
        return False
    _compose("down")
    COMPOSE_MARKER.unlink()
    return True
