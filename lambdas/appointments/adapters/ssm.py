"""Settings kept in SSM Parameter Store: the API keys and each country's MySQL connection.

Both are cached (powertools parameters) so a warm function does not call SSM on every request,
and both can be told the cached value proved wrong: the next read then goes to SSM, so a fixed
or rotated value takes effect at once instead of when the cache ages out.
"""

from __future__ import annotations

import hmac
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError

from appointments.ports import ApiKeyCheck, KeysUnavailable

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

    def __init__(self, path: str, max_age: int, provider: SSMProvider | None = None) -> None:
        self.path = path
        self._max_age = max_age
        self._provider = provider
        self._stale = False

    def forget(self) -> None:
        """The cached settings failed to connect or log in: read them again next time."""
        self._stale = True

    def __call__(self) -> MySqlSettings:
        fetch = self._provider.get_multiple if self._provider is not None else parameters.get_parameters
        values = cast(
            dict[str, str],
            fetch(self.path, recursive=True, decrypt=True, max_age=self._max_age, force_fetch=self._stale),
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


DEFAULT_CLIENT = "default"  # the client of a parameter that holds one plain key
CLIENT_NAME_PATTERN = r"[A-Za-z0-9._-]{1,64}"
# Of any key, plain or named: short enough to guess is no key. The kit makes 32 characters
# (secrets.token_urlsafe(24)).
MIN_KEY_LENGTH = 16


class InvalidApiKeys(ValueError):
    """The API key parameter cannot be read as keys. The message never quotes a key."""


def _each_name_once(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object's members, refused when a name comes twice (json.loads would keep the last)."""
    names = [name for name, _ in pairs]
    for name in names:
        if names.count(name) > 1:
            raise InvalidApiKeys(f"API client {name[:64]!r} is named twice in the API key parameter")
    return dict(pairs)


def parse_api_keys(stored: str) -> dict[str, str]:
    """The API key parameter's value as {client name: key}.

    A JSON object names one key per client application: {"billing-app": "...", "portal": "..."}.
    Any other value is a single key, for the client `default`: the one shared key of earlier
    versions keeps working as it is. Each client's key must be its own, so a log line can say
    which client called."""
    text = stored.strip()
    if not text:
        raise InvalidApiKeys("the API key parameter is empty")
    if not text.startswith("{"):
        if len(text) < MIN_KEY_LENGTH:
            raise InvalidApiKeys(f"the API key must be {MIN_KEY_LENGTH} characters or more")
        return {DEFAULT_CLIENT: text}
    try:
        parsed = json.loads(text, object_pairs_hook=_each_name_once)
    except InvalidApiKeys:
        raise
    except ValueError:
        raise InvalidApiKeys("the API key parameter starts with '{' but is not valid JSON") from None
    if not isinstance(parsed, dict) or not parsed:
        raise InvalidApiKeys("the API key parameter must be a JSON object of client name to key")
    for name, key in parsed.items():
        if not re.fullmatch(CLIENT_NAME_PATTERN, name):
            raise InvalidApiKeys(f"API client name {name[:64]!r}: 1 to 64 letters, digits, '.', '_' or '-'")
        if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
            raise InvalidApiKeys(
                f"the key of API client {name!r} must be a string of {MIN_KEY_LENGTH} characters or more"
            )
    if len(set(parsed.values())) != len(parsed):
        raise InvalidApiKeys("two API clients share a key: give each client its own")
    return dict(parsed)


def _client_with(given: str, keys: dict[str, str]) -> str | None:
    """The client whose key `given` is; every key is compared, so the time taken does not say
    which one came close."""
    found = None
    for name, key in keys.items():
        if hmac.compare_digest(given.encode(), key.encode()):
            found = name
    return found


# A key that matches none of the cached ones makes a worker read the parameter again, at most this
# often: a new key works at once, and a flood of wrong keys does not become a flood of SSM calls.
RECHECK_SECONDS = 5.0


class ApiKey(ApiKeyCheck):
    """The API keys callers send in x-api-key, read through `read(force)` (cached unless forced)
    and parsed by `parse_api_keys`. A key that matches none of the cached ones is checked once more
    against a fresh read, at most every `recheck_seconds`: a new key works at once, and a flood of
    wrong keys does not become a flood of SSM calls. A removed key stops working when the cache
    is next read: within its max age, at once on a function that re-read it."""

    def __init__(
        self,
        read: Callable[[bool], str],
        recheck_seconds: float = RECHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._recheck_seconds = recheck_seconds
        self._clock = clock
        self._last_recheck = float("-inf")
        self._parsed: tuple[str, dict[str, str]] = ("", {})

    def _keys(self, force: bool) -> dict[str, str]:
        stored = self._read(force)
        if stored != self._parsed[0]:
            self._parsed = (stored, parse_api_keys(stored))
        return self._parsed[1]

    def client(self, given: str) -> str | None:
        """The name of the client application whose key this is, or None."""
        found = _client_with(given, self._keys(False))
        if found is not None:
            return found
        now = self._clock()
        if now - self._last_recheck < self._recheck_seconds:
            return None
        self._last_recheck = now
        return _client_with(given, self._keys(True))


def ssm_api_key(name: str, max_age: int = 60, provider: SSMProvider | None = None) -> ApiKey:
    """The keys kept as a SecureString under `name`, cached for `max_age` seconds."""
    get = provider.get if provider is not None else parameters.get_parameter

    def read(force: bool) -> str:
        try:
            return str(get(name, decrypt=True, max_age=max_age, force_fetch=force))
        except (GetParameterError, BotoCoreError) as error:  # not answered in time, or at all
            raise KeysUnavailable(
                f"the API keys in {name} could not be read: {type(error).__name__}"
            ) from error

    return ApiKey(read)
