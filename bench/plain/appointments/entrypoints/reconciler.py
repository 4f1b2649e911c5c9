"""The reconciler's place: the plain design has no outbox, so there is nothing to hand over."""

from __future__ import annotations

from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"handedOver": [], "stillWaiting": []}
