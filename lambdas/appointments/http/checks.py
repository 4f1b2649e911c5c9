"""The checks made before a request is parsed, as a middleware: the API key, the body's size and
media type. A caller without a key learns nothing about the body, and an oversized body is never
parsed. The docs page is the one route they let through without a key.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from appointments.http.errors import Resolver, answer
from appointments.ports import ApiKeyCheck

API_KEY_HEADER = "x-api-key"
MAX_BODY_BYTES = 8 * 1024  # an appointment request is under 200 bytes
JSON_MEDIA_TYPE = "application/json"
DOCS_PATH = "/docs"  # Swagger UI; `/docs?format=json` is the OpenAPI document
# How API Gateway names the docs route it matched: the HTTP API's routeKey (the template's
# DocsRoute) and the REST API's resource (DocsResource, under the root).
DOCS_ROUTE_KEY = f"GET {DOCS_PATH}"
DOCS_RESOURCE = DOCS_PATH


def asks_for_docs(event: BaseProxyEvent) -> bool:
    """Whether API Gateway routed this request to the docs page, the one public route: told by the
    route it matched (an HTTP API's routeKey, a REST API's resource), never by the path. A REST
    API hands over the path without its stage, so on a stage named `appointments` the insured
    `docs`'s list, /appointments/appointments/docs, arrives as the path /appointments/docs."""
    if isinstance(event, APIGatewayProxyEventV2):
        return event.get("routeKey") == DOCS_ROUTE_KEY
    return event.http_method == "GET" and event.get("resource") == DOCS_RESOURCE


def _body_size(event: BaseProxyEvent) -> int:
    body = event.body or ""
    return len(body) * 3 // 4 if event.is_base64_encoded else len(body.encode())


def _media_type(content_type: str) -> str:
    """A content-type header's media type, lowercased and without its parameters: media types are
    case-insensitive, so `Application/JSON; charset=UTF-8` is application/json."""
    return content_type.partition(";")[0].strip().lower()


def _json_as_the_parser_reads_it(event: BaseProxyEvent) -> None:
    """powertools' body parser compares the content type case-sensitively, as written: once the
    checks have taken a JSON media type, it is handed the header in the form it knows."""
    headers = event.raw_event.get("headers") or {}
    for name, value in headers.items():
        if name.lower() == "content-type" and _media_type(value) == JSON_MEDIA_TYPE:
            headers[name] = JSON_MEDIA_TYPE


def refusal(
    event: BaseProxyEvent, api_key: ApiKeyCheck
) -> tuple[Response[dict[str, Any]] | None, str | None]:
    """The answer that refuses the request before it is parsed (or None), and the client
    application its key belongs to."""
    if asks_for_docs(event):
        return None, None  # the documentation page is public; what it calls is not
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    given = headers.get(API_KEY_HEADER)
    if not given:
        return answer(HTTPStatus.UNAUTHORIZED, {"message": "send your API key in the x-api-key header"}), None
    client = api_key.client(given)
    if client is None:
        return answer(HTTPStatus.FORBIDDEN, {"message": "this API key is not valid"}), None
    if _body_size(event) > MAX_BODY_BYTES:
        message = f"the body must be under {MAX_BODY_BYTES} bytes"
        return answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": message}), client
    content_type = headers.get("content-type", "")
    if event.body and content_type and _media_type(content_type) != JSON_MEDIA_TYPE:
        # Refused here: a form or multipart body would otherwise be parsed as one, and fail
        # field by field (or, without a boundary, not at all).
        message = "send the body as JSON with the header content-type: application/json"
        return answer(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"message": message}), client
    return None, client


class ChecksBeforeParsing(BaseMiddlewareHandler):  # type: ignore[type-arg]
    """Answers a request `refusal` refuses; lets any other through, its client application kept in
    the app's context (`errors.caller`) and its JSON content type in the form the parser reads."""

    def __init__(self, api_key: ApiKeyCheck) -> None:
        super().__init__()
        self.api_key = api_key

    def handler(self, app: Resolver, next_middleware: NextMiddleware) -> Response[Any]:
        refused, client = refusal(app.current_event, self.api_key)
        if refused is not None:
            return refused
        app.append_context(api_client=client)  # type: ignore[no-untyped-call]  # cleared after the request
        _json_as_the_parser_reads_it(app.current_event)
        return next_middleware(app)
