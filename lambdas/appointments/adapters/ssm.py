"""Settings kept in SSM Parameter Store: the API key and each country's MySQL connection.

Both are cached (powertools parameters) so a warm function does not call SSM on every request,
and both can be told the cached value proved wrong: the next read then goes to SSM, so a fixed
or rotated value takes effect at once instead of when the cache ages out.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.utilities import parameters

DB_PARAMETER_NAMES = ("host", "port", "user", "password", "name")


class MissingDbParameter(RuntimeError):
    pass


@dataclass(frozen=True)
class MySqlSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    def __repr__(self) -> str:  # never show the password in a log line or a traceback
        return (
            f"MySqlSettings(host={self.host!r}, port={self.port}, user={self.user!r}, "
            f"database={self.database!r})"
        )


class SsmMySqlSettings:
    """<path>/{host,port,user,password,name}; the password is a SecureString."""

    def __init__(self, path: str, max_age: int) -> None:
        self.path = path
        self._max_age = max_age
        self._stale = False

    def forget(self) -> None:
        """The cached settings failed to connect or log in: read them again next time."""
        self._stale = True

    def __call__(self) -> MySqlSettings:
        values = parameters.get_parameters(
            self.path, decrypt=True, max_age=self._max_age, force_fetch=self._stale
        )
        self._stale = False
        missing = [name for name in DB_PARAMETER_NAMES if name not in values]
        if missing:
            raise MissingDbParameter(f"missing SSM parameters under {self.path}: {', '.join(missing)}")
        return MySqlSettings(
            host=values["host"],
            port=int(values["port"]),
            user=values["user"],
            password=values["password"],
            database=values["name"],
        )


class ApiKey:
    """The API key callers send in x-api-key, read through `read(force)` (cached unless forced).
    A key that does not match the cached one is checked once more against a fresh read, at most
    every `recheck_seconds`: a rotated key works at once, and a flood of wrong keys does not
    become a flood of SSM calls."""

    def __init__(
        self,
        read: Callable[[bool], str],
        recheck_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._last_recheck = float("-inf")

    def matches(self, given: str) -> bool:
        if hmac.compare_digest(given.encode(), self._read(False).encode()):
            return True
        now = self._clock()
        if now - self._last_recheck < self._recheck_seconds:
            return False
        self._last_recheck = now
        return hmac.compare_digest(given.encode(), self._read(True).encode())


def ssm_api_key(name: str, max_age: int = 300) -> ApiKey:
    """The key kept as a SecureString under `name`, cached for `max_age` seconds."""

    def read(force: bool) -> str:
        return str(parameters.get_parameter(name, decrypt=True, max_age=max_age, force_fetch=force))

    return ApiKey(read)
