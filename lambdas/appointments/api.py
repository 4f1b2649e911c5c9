"""The HTTP API: routes, request validation and the one place where errors become status codes.

The same routes serve both front doors the template offers: an HTTP API (API Gateway v2,
payload format 2.0) and a REST API (API Gateway v1, payload format 1.0).
"""

from __future__ import annotations

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


def create_app(
    repository: AppointmentRepository,
    publisher: AppointmentRequestPublisher,
    resolver: type[Resolver] = APIGatewayHttpResolver,
) -> Resolver:
    app = resolver(enable_validation=True)

    @app.post("/appointments", summary="Request an appointment")
    def create_appointment(
        body: Annotated[CreateAppointmentBody, Body()],
    ) -> Response[AppointmentView]:
        appointment = services.request_appointment(body.to_domain(), repository, publisher)
        logger.info(
            "appointment accepted",
            appointment_id=appointment.appointment_id,
            country=appointment.country.value,
        )
        return Response(
            status_code=HTTPStatus.ACCEPTED.value,
            content_type=content_types.APPLICATION_JSON,
            body=AppointmentView.from_domain(appointment),
        )

    @app.get("/appointments/<insuredId>", summary="List an insured's appointments, newest first")
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

    app.exception_handler(RequestValidationError)(bad_request)
    app.exception_handler(RequestUnsupportedContentType)(unsupported_media_type)

    return app


class AppointmentsApi:
    """Both front doors over the same routes: picks the resolver by the event's payload format."""

    def __init__(self, repository: AppointmentRepository, publisher: AppointmentRequestPublisher) -> None:
        self.http = create_app(repository, publisher, APIGatewayHttpResolver)
        self.rest = create_app(repository, publisher, APIGatewayRestResolver)

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        app = self.http if event.get("version") == "2.0" else self.rest
        return app.resolve(event, context)
