"""The docs page as each front door hands it to a browser asking for gzip.

A compressed answer leaves the function base64-encoded. An HTTP API decodes it; a REST API
decodes it only for its BinaryMediaTypes (the template sets none), so there the page must leave
uncompressed or the browser gets base64 text labelled gzip."""

from __future__ import annotations

import base64
import gzip
from typing import Any

from appointments.adapters.ssm import ApiKey
from appointments.http.front_doors import AppointmentsApi
from appointments.http.routes import HttpBackend
from tests.support.events import FakeContext, http_event, rest_event
from tests.support.fakes import InMemoryAppointmentRepository, InMemoryRequestPublisher

BROWSER = {"accept": "text/html", "accept-encoding": "gzip, deflate, br"}


def docs_page(event: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    api = AppointmentsApi(
        HttpBackend(InMemoryAppointmentRepository(), InMemoryRequestPublisher(), ApiKey(lambda force: "k"))
    )
    page = api.resolve(event, FakeContext())  # type: ignore[arg-type]
    headers = page.get("headers") or {k: v[-1] for k, v in (page.get("multiValueHeaders") or {}).items()}
    return {k.lower(): v for k, v in headers.items()}, page


def test_the_rest_api_gets_the_page_as_plain_html() -> None:
    headers, page = docs_page(rest_event("GET", "/docs", None, BROWSER))

    assert page["statusCode"] == 200
    assert "content-encoding" not in headers
    assert not page["isBase64Encoded"]
    assert "swagger-ui" in page["body"]


def test_the_http_api_gets_the_page_gzipped_which_it_decodes_for_the_browser() -> None:
    headers, page = docs_page(http_event("GET", "/docs", None, BROWSER))

    assert page["statusCode"] == 200
    assert headers["content-encoding"] == "gzip"
    assert page["isBase64Encoded"]
    assert b"swagger-ui" in gzip.decompress(base64.b64decode(page["body"]))
