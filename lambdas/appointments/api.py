"""The HTTP API: routes, request validation and the one place where errors become status codes.

The same routes serve both front doors the template offers: an HTTP API (API Gateway v2,
payload format 2.0) and a REST API (API Gateway v1, payload format 1.0).
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.idempotency import (
    BasePersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import services
from appointments.ports import AppointmentRepository, AppointmentRequestPublisher
from appointments.schemas import (
    INSURED_ID_PATTERN,
    AppointmentListView,
    AppointmentView,
    CreateAppointmentBody,
)

logger = Logger(child=True)


def _field_errors(error: RequestValidationError) -> list[dict[str, str]]:
    """One entry per bad field, named as the client wrote it (body.insuredId -> insuredId)."""
    problems = []
    for issue in error.errors():
        location = [str(part) for part in issue.get("loc", ()) if not isinstance(part, int)]
        if location and location[0] in ("body", "path", "query"):
            location = location[1:] or location
        message = issue.get("msg", "invalid")
        if issue.get("type") == "json_invalid":
            message = f"body is not valid JSON: {issue.get('ctx', {}).get('error', 'decode error')}"
        elif issue.get("type") == "extra_forbidden":
            message = "unknown field"
        problems.append({"field": ".".join(location), "message": message})
    return problems


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


Resolver = APIGatewayHttpResolver | APIGatewayRestResolver


IDEMPOTENCY_HEADER = "idempotency-key"
API_KEY_HEADER = "x-api-key"
MAX_BODY_BYTES = 8 * 1024  # an appointment request is under 200 bytes
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")  # printable ASCII, no spaces

ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: {"description": "Invalid body or path: one entry per bad field"},
    401: {"description": "No x-api-key header"},
    403: {"description": "Wrong x-api-key"},
    413: {"description": "Body larger than 8 KiB"},
    415: {"description": "Body not sent as application/json"},
}


# Same key and body within a day: the stored answer is returned. Same key, other body: 422.
IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="key",
    payload_validation_jmespath="request",
    expires_after_seconds=24 * 3600,
    raise_on_no_idempotency_key=True,
)


def _idempotent(
    request_once: Callable[..., dict[str, Any]], store: BasePersistenceLayer | None
) -> Callable[..., dict[str, Any]]:
    if store is None:
        return request_once
    wrapped: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="data", persistence_store=store, config=IDEMPOTENCY
    )(request_once)
    return wrapped


def create_app(
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    resolver: type[Resolver] = APIGatewayHttpResolver,
    idempotency_store: BasePersistenceLayer | None = None,
) -> Resolver:
    app = resolver(enable_validation=True)

    def request_once(data: dict[str, Any]) -> dict[str, Any]:
        body = CreateAppointmentBody.model_validate(data["request"])
        appointment = services.request_appointment(body.to_domain(), repository, publisher)
        logger.info(
            "appointment accepted",
            appointment_id=appointment.appointment_id,
            country=appointment.country.value,
        )
        return AppointmentView.from_domain(appointment).model_dump(mode="json")

    request_with_key = _idempotent(request_once, idempotency_store)

    @app.post(
        "/appointments",
        summary="Request an appointment",
        description=(
            "Stores the appointment as pending and hands it to its country's processor. With an "
            "Idempotency-Key header, a repeated request with the same body returns the same "
            "appointment; the same key with another body gets 422."
        ),
        responses={
            202: {
                "description": "Accepted, pending",
                "content": {"application/json": {"model": AppointmentView}},
            },
            409: {"description": "A request with this Idempotency-Key is still in progress"},
            422: {"description": "Idempotency-Key reused with another body"},
            **ERROR_RESPONSES,
        },
    )
    def create_appointment(
        body: Annotated[CreateAppointmentBody, Body()],
    ) -> Response[dict[str, Any]]:
        key = app.current_event.headers.get(IDEMPOTENCY_HEADER)
        data = {"key": key, "request": body.model_dump(mode="json")}
        if key is None:
            created = request_once(data=data)
        elif not IDEMPOTENCY_KEY_PATTERN.match(key):
            return _json(
                HTTPStatus.BAD_REQUEST,
                {
                    "message": "invalid request",
                    "errors": [{"field": "Idempotency-Key", "message": "1 to 128 printable characters"}],
                },
            )
        else:
            created = request_with_key(data=data)
        return Response(
            status_code=HTTPStatus.ACCEPTED.value, content_type=content_types.APPLICATION_JSON, body=created
        )

    @app.get(
        "/appointments/<insuredId>",
        summary="List an insured's appointments, newest first",
        responses={
            200: {
                "description": "The appointments",
                "content": {"application/json": {"model": AppointmentListView}},
            },
            **ERROR_RESPONSES,
        },
    )
    def list_appointments(
        insuredId: Annotated[str, Path(pattern=INSURED_ID_PATTERN)],  # noqa: N803 (the route's name)
    ) -> AppointmentListView:
        appointments = services.list_appointments(insuredId, repository)
        return AppointmentListView(items=[AppointmentView.from_domain(a) for a in appointments])

    def bad_request(error: RequestValidationError) -> Response[dict[str, Any]]:
        content_type = app.current_event.headers.get("content-type", "")
        # A form body (curl -d without a content type) is parsed as a form and fails field by
        # field; the useful answer is about the content type.
        if content_type and not content_type.startswith("application/json"):
            return unsupported_media_type(error)
        return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": _field_errors(error)})

    def unsupported_media_type(error: Exception) -> Response[dict[str, Any]]:
        return _json(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            {"message": "send the body as JSON with the header content-type: application/json"},
        )

    def key_reused(error: IdempotencyValidationError) -> Response[dict[str, Any]]:
        message = "this Idempotency-Key was used with another body; use a new key for a new request"
        return _json(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": message})

    def key_in_progress(error: IdempotencyAlreadyInProgressError) -> Response[dict[str, Any]]:
        return _json(HTTPStatus.CONFLICT, {"message": "a request with this Idempotency-Key is in progress"})

    app.exception_handler(RequestValidationError)(bad_request)
    app.exception_handler(RequestUnsupportedContentType)(unsupported_media_type)
    app.exception_handler(IdempotencyValidationError)(key_reused)
    app.exception_handler(IdempotencyAlreadyInProgressError)(key_in_progress)

    return app


def _proxy_response(status: HTTPStatus, message: str) -> dict[str, Any]:
    """An answer given before routing; this shape is valid for payload formats 1.0 and 2.0."""
    return {
        "statusCode": status.value,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"message": message}),
        "isBase64Encoded": False,
    }


class AppointmentsApi:
    """Both front doors over the same routes: picks the resolver by the event's payload format.

    Before routing it checks the API key (x-api-key, compared with the one kept in SSM) and the
    body size, so neither a stranger nor an oversized body reaches validation or storage.
    """

    def __init__(
        self,
        repository: AppointmentRepository,
        publisher: AppointmentRequestPublisher,
        api_key: Callable[[], str],
        idempotency_store: BasePersistenceLayer | None = None,
    ) -> None:
        self.api_key = api_key
        self.http = create_app(repository, publisher, APIGatewayHttpResolver, idempotency_store)
        self.rest = create_app(repository, publisher, APIGatewayRestResolver, idempotency_store)

    def _refusal(self, event: dict[str, Any]) -> dict[str, Any] | None:
        headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
        given = headers.get(API_KEY_HEADER)
        if not given:
            return _proxy_response(HTTPStatus.UNAUTHORIZED, "send your API key in the x-api-key header")
        if not hmac.compare_digest(given.encode(), self.api_key().encode()):
            return _proxy_response(HTTPStatus.FORBIDDEN, "this API key is not valid")
        body = event.get("body") or ""
        size = len(body) * 3 // 4 if event.get("isBase64Encoded") else len(body.encode())
        if size > MAX_BODY_BYTES:
            return _proxy_response(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the body must be under {MAX_BODY_BYTES} bytes"
            )
        return None

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        refusal = self._refusal(event)
        if refusal is not None:
            return refusal
        IDEMPOTENCY.register_lambda_context(context)  # an in-progress record expires with the invocation
        app = self.http if event.get("version") == "2.0" else self.rest
        return app.resolve(event, context)
