"""Unique references, so each test (and each benchmark run) has data of its own on a shared stack."""

from __future__ import annotations

import random
import uuid


def random_suffix(length: int = 16) -> str:
    return uuid.uuid4().hex[:length].upper()


def random_insured_id(name: str = "T") -> str:
    """`name` then random letters and digits; an insured id holds at most 32."""
    return f"{name}{random_suffix()}"


def random_schedule_id() -> int:
    """A slot no earlier run holds: MySQL keeps each (country, schedule) slot for good. Consecutive
    slots from it (`random_schedule_id() + n`) are free as well."""
    return random.randrange(10**12, 10**13)


def random_idempotency_key(name: str = "key") -> str:
    return f"{name}-{uuid.uuid4().hex}"
