"""The checks before the console's routes (bootstrap/console/app.py's Guard), on an application
of one GET and one POST route: the Host must be the console's own, a POST must come from its
origin, a read-only console refuses every POST, and every answer carries the security headers."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from bootstrap.console.guard import Guard, Settings, new_settings

PORT = 4580
OWN = f"http://127.0.0.1:{PORT}"


async def answered(request: Request) -> PlainTextResponse:
    return PlainTextResponse("done")


def client(settings: Settings) -> TestClient:
    app = Starlette(
        routes=[Route("/", answered), Route("/act", answered, methods=["POST"])],
        middleware=[Middleware(Guard, settings=settings)],
    )
    return TestClient(app, base_url=OWN)


@pytest.fixture
def console() -> TestClient:
    return client(new_settings(PORT, actions_allowed=True, where="the engine"))


def test_a_request_for_the_consoles_own_host_is_answered_with_the_security_headers(
    console: TestClient,
) -> None:
    for host in (f"127.0.0.1:{PORT}", f"localhost:{PORT}"):
        answer = console.get("/", headers={"host": host})
        assert (answer.status_code, answer.text) == (200, "done")
        assert answer.headers["content-security-policy"].startswith("default-src 'self'")
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    "host", ["attacker.example", f"attacker.example:{PORT}", "127.0.0.1", f"127.0.0.1:{PORT + 1}", ""]
)
def test_a_request_naming_another_host_is_refused_before_any_route(console: TestClient, host: str) -> None:
    answer = console.get("/", headers={"host": host})
    assert answer.status_code == 421
    assert "done" not in answer.text


@pytest.mark.parametrize("origin", [None, "null", "http://attacker.example", f"http://localhost:{PORT + 1}"])
def test_a_post_from_another_origin_is_refused(console: TestClient, origin: str | None) -> None:
    headers = {"origin": origin} if origin else {}
    assert console.post("/act", headers=headers).status_code == 403


def test_a_post_from_the_consoles_own_origin_reaches_its_route(console: TestClient) -> None:
    assert console.post("/act", headers={"origin": OWN}).text == "done"


def test_a_read_only_console_refuses_a_post_even_from_its_own_origin() -> None:
    read_only = client(new_settings(PORT, actions_allowed=False, where="AWS us-east-1"))
    answer = read_only.post("/act", headers={"origin": OWN})
    assert answer.status_code == 403
    assert "read-only" in answer.text


def test_each_console_gets_a_token_of_its_own() -> None:
    tokens = {new_settings(PORT, True, "the engine").csrf_token for _ in range(3)}
    assert len(tokens) == 3
    assert all(len(token) >= 40 for token in tokens)
