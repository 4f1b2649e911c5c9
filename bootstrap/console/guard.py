"""What the console withstands: it answers only requests whose Host is its own loopback address (DNS rebinding), takes an action (redrive) only as a POST with its CSRF token from its own Origin, and only when actions are allowed (against AWS: read-only unless asked); every answer carries headers that keep it out of frames and caches."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

SECURITY_HEADERS = {
    # htmx, the stylesheet and the pages come from the console itself; nothing inline runs
    "content-security-policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends a form's POST with `Origin: null`
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class Settings:
    port: int
    actions_allowed: bool  # redrive from the page
    where: str  # what the console reads, as its pages name it
    csrf_token: str


class Guard:
    """The checks before routing: Host, then for a POST Origin and CSRF token, then read-only."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.hosts = {f"127.0.0.1:{settings.port}", f"localhost:{settings.port}"}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        host = headers.get("host", "")
        refusal = None
        if host not in self.hosts:
            refusal = PlainTextResponse("unknown host: this console answers only its own address", 421)
        elif scope["method"] not in ("GET", "HEAD"):
            if headers.get("origin") != f"http://{host}":
                refusal = PlainTextResponse("refused: a request from another origin", 403)
            elif not self.settings.actions_allowed:
                refusal = PlainTextResponse(
                    "refused: this console is read-only (start it with --allow-actions)", 403
                )
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", []),
                    *((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()),
                ]
            await send(message)

        await self.app(scope, receive, with_headers)


def new_settings(port: int, actions_allowed: bool, where: str) -> Settings:
    return Settings(port, actions_allowed, where, secrets.token_urlsafe(32))
