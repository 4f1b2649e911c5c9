"""The AWS clients the console's readers share, with short timeouts and few retries: a page never waits long on the stack it watches."""

from __future__ import annotations

import threading
from typing import Any

from botocore.config import Config

from bootstrap.config import StackConfig

# Each call the console makes is short: a page that cannot be answered says so instead of hanging.
CLIENT_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 2})


class SharedClients:
    """A stack's settings whose boto3 clients are made once, with the console's short timeouts,
    and shared by the threads (boto3 clients are thread-safe; making one costs tens of ms)."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.config, name)

    def client(self, service: str, **options: Any) -> Any:
        if options:
            return self.config.client(service, **options)
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.config.client(service, config=CLIENT_CONFIG)
            return self._clients[service]


def plain_value(value: Any) -> str:
    return str(next(iter(value.values()))) if isinstance(value, dict) and value else ""
