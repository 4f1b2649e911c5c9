"""How long every call may take, in one place: each AWS client's timeouts and retries, the MySQL
connection's, and the invocation's deadline that every one of them is held to.

A function has a timeout (the template's `Timeout`); a call that waits past it kills the whole
invocation, a processor's batch with it. So each function starts a `Deadline` when an invocation
comes in, and every blocking step checks it first: an AWS request attempt (a botocore hook on each
client), a MySQL connect or statement (the adapter). A step that could not finish before the
deadline is not started: it fails at once with `DeadlineExceeded`, which the callers treat as the
failure of that call (the HTTP function keeps the appointment in the outbox, a processor reports
the record failed so it is retried, the reconciler stops its run). The deadline keeps back enough
of the timeout for what still has to run after a refused step (`keep`), so every answer is given
within the function's time: `tests/unit/functions/test_budgets.py` holds each function's worst
case under its timeout in the template.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError

# botocore's standard retry mode sleeps up to min(20, 2 ** (attempt - 1)) seconds between attempts.
MAX_BACKOFF_SECONDS = 20.0


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class CallBudget:
    """One client's limits: each attempt may wait `connect` then `read` seconds; `attempts`
    counts the first try and its retries (botocore's standard mode, which retries throttling,
    5xx answers and connection errors with jittered exponential backoff)."""

    connect: float
    read: float
    attempts: int

    @property
    def attempt_seconds(self) -> float:
        return self.connect + self.read

    @property
    def backoff_seconds(self) -> float:
        """The longest sleep between two attempts."""
        return min(MAX_BACKOFF_SECONDS, 2.0 ** (self.attempts - 2)) if self.attempts > 1 else 0.0

    def botocore_config(self) -> Config:
        return Config(
            connect_timeout=self.connect,
            read_timeout=self.read,
            retries={"mode": "standard", "total_max_attempts": self.attempts},  # retries included
        )


# The functions' AWS calls: DynamoDB, SNS, EventBridge and SSM answer in milliseconds; a second
# is a slow answer, two is a dependency in trouble. One retry takes a throttle or a dropped
# connection; more would only spend the invocation's time.
AWS_CALLS = CallBudget(connect=0.5, read=2.0, attempts=2)
# MySQL (PyMySQL's connect, read and write timeouts, whole seconds): each statement is a few
# milliseconds, and a transaction holds its slot's key only between its INSERT and its COMMIT.
MYSQL_TIMEOUT_SECONDS = 2
# How long the server lets a statement wait for a row lock (the slot key another transaction is
# inserting). Shorter than the client's timeout: a statement the client gave up on would otherwise
# go on waiting in the server, for InnoDB's default 50 s, holding its own locks meanwhile.
MYSQL_LOCK_WAIT_SECONDS = 1
MYSQL_CONNECT_SECONDS = 2 * MYSQL_TIMEOUT_SECONDS  # the TCP connect, then the server's greeting
# What is left to do after the last call a deadline allowed: build the answer, report the batch.
ANSWER_SECONDS = 0.5
# What a deadline keeps back: an attempt ends before the deadline, but the sleep before a retry
# may have begun just then, and the answer still follows.
KEEP_SECONDS = AWS_CALLS.backoff_seconds + ANSWER_SECONDS
# The HTTP function also keeps an attempt for the idempotency record's last write (its client is
# held to KEEP_SECONDS only), so an appointment stored is never answered with a timeout.
HTTP_KEEP_SECONDS = KEEP_SECONDS + AWS_CALLS.attempt_seconds


class DeadlineExceeded(BotoCoreError):
    """A step was not started: it could not have finished within the invocation's time."""

    fmt = "not started, {step}: it may take {needed:.2f} s and {left:.2f} s remain before the deadline"


class Deadline:
    """The end of the current invocation, less `keep` seconds kept back for what follows.

    Started by each invocation from its context; until then (outside Lambda, in tests) nothing
    is refused. `keep` is what still has to run after any refused step: the answer, and for the
    HTTP function the idempotency record's last write, which is held to the deadline itself.
    """

    def __init__(self, keep: float = KEEP_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep = keep
        self.clock = clock
        self._ends_at = math.inf

    def start(self, context: RemainingTime) -> None:
        self._ends_at = self.clock() + context.get_remaining_time_in_millis() / 1000

    def left(self, keep: float | None = None) -> float:
        """Seconds until the deadline, after keeping `keep` (by default the deadline's own)."""
        return self._ends_at - self.clock() - (self.keep if keep is None else keep)

    def check(self, step: str, needed: float, keep: float | None = None) -> None:
        """Raises DeadlineExceeded when `step` could not finish in what is left."""
        left = self.left(keep)
        if left < needed:
            raise DeadlineExceeded(step=step, needed=needed, left=max(left, 0.0))


def aws_client(
    service: str,
    deadline: Deadline,
    budget: CallBudget = AWS_CALLS,
    keep: float | None = None,
    endpoint_url: str | None = None,
) -> Any:
    """A boto3 client with the budget's timeouts and retries, whose every attempt (the retries
    too) is started only when it can finish before the deadline. The endpoint is AWS's, or
    AWS_ENDPOINT_URL's (the local engine sets it in every function); tests may name another."""
    import boto3

    client = boto3.client(service, config=budget.botocore_config(), endpoint_url=endpoint_url)  # type: ignore[call-overload]

    def before_attempt(event_name: str = "before-send", **_: Any) -> None:
        # event_name: before-send.<service>.<Operation>
        deadline.check(f"{event_name.removeprefix('before-send.')} attempt", budget.attempt_seconds, keep)

    client.meta.events.register("before-send", before_attempt)
    return client
