"""Serve the console on loopback: `python -m bootstrap console` (`make console`)."""

from __future__ import annotations

import uvicorn

from bootstrap.config import KitError, StackConfig
from bootstrap.console import app, clients, guard, overview

HOST = "127.0.0.1"  # loopback only, whatever is asked
DEFAULT_PORT = 4567


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def serve(config: StackConfig, port: int, actions_allowed: bool, scan_seconds: float | None = None) -> None:
    """Serve until interrupted. Reading the stack's outputs first makes a missing stack one line."""
    if not 0 < port < 65536:
        raise KitError(f"CONSOLE_PORT must be a TCP port, not {port}")
    if scan_seconds is not None and not scan_seconds > 0:
        raise KitError(f"--scan-seconds must be a number of seconds above 0, not {scan_seconds}")
    shared = clients.SharedClients(config)
    watcher = overview.Watcher(shared, scan_seconds)
    settings = guard.new_settings(port, actions_allowed, config.where)
    print(
        f"Console: {url(port)}  ({config.stack_name} on {config.where}"
        f"{'' if actions_allowed else ', read-only'}; Ctrl-C stops it)",
        flush=True,
    )
    uvicorn.run(
        app.make_app(shared, settings, watcher),
        host=HOST,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        proxy_headers=False,
    )
