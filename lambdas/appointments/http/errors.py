"""The one place where errors become answers: each exception the routes or powertools raise, the
status code and body it is answered with, and how those answers are documented.

The handlers are plain functions of the error; those that log or quote the request take the app
as their first argument, bound when `answer_errors` registers them.
"""

from __future__ import annotations

from functools import partial
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from appointments.http.schemas import ErrorView, InvalidPageToken
from appointments.ports import KeysUnavailable

logger = Logger(child=True)

Resolver = APIGatewayHttpResolver | APIGatewayRestResolver

# Seconds a caller is asked to wait before sending again a request the API could not take just now.
RETRY_AFTER_SECONDS = 1


def answer(status: HTTPStatus, body: dict[str, Any]) -> Response[dict[str, Any]]:
    """A JSON answer: every answer of the API but the docs page is one."""
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


def invalid_request(problems: list[dict[str, str]]) -> Response[dict[str, Any]]:
    """A 400 naming each bad field."""
    return answer(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": problems})


def documented_error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorView}}}


ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: documented_error("Invalid body, path, query or header: one entry per bad field"),
    401: documented_error("No x-api-key header"),
    403: documented_error("Wrong x-api-key"),
    413: documented_error("Body larger than 8 KiB"),
    415: documented_error("Body not sent as application/json"),
    500: documented_error("Something failed on our side: the answer carries the requestId to quote"),
    503: documented_error(
        "The API key could not be checked just now: send the request again after Retry-After seconds"
    ),
}


def caller(app: Resolver) -> str | None:
    """The client application whose key called, for the log lines (never the key)."""
    client = app.context.get("api_client")
    return str(client) if client else None


def _field_errors(error: RequestValidationError) -> list[dict[str, str]]:
    """One entry per bad field, named as the client wrote it (body.insuredId -> insuredId)."""
    problems = []
    for issue in error.errors():
        location = [str(part) for part in issue.get("loc", ()) if not isinstance(part, int)]
        if location and location[0] in ("body", "path", "query", "header"):
            location = location[1:] or location
        message = issue.get("msg", "invalid")
        if issue.get("type") == "json_invalid":
            message = f"body is not valid JSON: {issue.get('ctx', {}).get('error', 'decode error')}"
        elif issue.get("type") == "extra_forbidden":
            message = "unknown field"
        problems.append({"field": ".".join(location), "message": message})
    return problems


def bad_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    return invalid_request(_field_errors(error))


def bad_page_token(error: InvalidPageToken) -> Response[dict[str, Any]]:
    return invalid_request([{"field": "nextToken", "message": str(error)}])


def key_reused(error: IdempotencyValidationError) -> Response[dict[str, Any]]:
    message = "this Idempotency-Key was used with another body; use a new key for a new request"
    return answer(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": message})


def key_in_progress(error: IdempotencyAlreadyInProgressError) -> Response[dict[str, Any]]:
    return answer(HTTPStatus.CONFLICT, {"message": "a request with this Idempotency-Key is in progress"})


def nested_too_deeply(error: RecursionError) -> Response[dict[str, Any]]:
    # The JSON parser gives up on a body of thousands of nested brackets.
    return invalid_request([{"field": "body", "message": "the JSON is nested too deeply"}])


def keys_unavailable(app: Resolver, error: KeysUnavailable) -> Response[dict[str, Any]]:
    logger.warning("api keys unavailable", request_id=app.current_event.request_context.request_id)
    message = "the API key could not be checked just now; send the request again in a moment"
    response = answer(HTTPStatus.SERVICE_UNAVAILABLE, {"message": message})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def unexpected(app: Resolver, error: Exception) -> Response[dict[str, Any]]:
    # The detail goes to the log, with the correlation id; the caller gets the request id to
    # quote, never the exception's text (it can name resources and accounts).
    request_id = app.current_event.request_context.request_id
    logger.exception(
        "request failed", request_id=request_id, exception_name=type(error).__name__, api_client=caller(app)
    )
    message = "something went wrong on our side; quote the requestId if you report it"
    return answer(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": message, "requestId": request_id})


def no_route(app: Resolver, error: Exception) -> Response[dict[str, Any]]:
    # The route's parameter takes a safe set of characters; an id with others (a control
    # character, say) matches no route, but it is a bad insuredId, not a missing page.
    event = app.current_event
    if event.http_method == "GET" and event.path.startswith("/appointments/"):
        return invalid_request([{"field": "insuredId", "message": "1 to 32 letters or digits"}])
    return answer(HTTPStatus.NOT_FOUND, {"message": f"no route for {event.http_method} {event.path}"})


def answer_errors(app: Resolver) -> None:
    """Registers the handlers above with `app`."""
    app.not_found(partial(no_route, app))
    app.exception_handler(RequestValidationError)(bad_request)
    app.exception_handler(InvalidPageToken)(bad_page_token)
    app.exception_handler(IdempotencyValidationError)(key_reused)
    app.exception_handler(IdempotencyAlreadyInProgressError)(key_in_progress)
    app.exception_handler(RecursionError)(nested_too_deeply)
    app.exception_handler(KeysUnavailable)(partial(keys_unavailable, app))
    app.exception_handler(Exception)(partial(unexpected, app))
