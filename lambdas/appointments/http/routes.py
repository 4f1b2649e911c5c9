"""The routes: POST /appointments and GET /appointments/{insuredId}, each parsing its request,
calling one use case and answering; and `create_app`, which puts them together with the checks
before parsing, the validation, the docs page and the error answers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyPersistenceLayerError

from appointments import services
from appointments.domain import WriteUnconfirmed
from appointments.http.checks import API_KEY_HEADER, DOCS_PATH, ChecksBeforeParsing
from appointments.http.errors import (
    ERROR_RESPONSES,
    Resolver,
    answer,
    answer_errors,
    caller,
    documented_error,
    invalid_request,
)
from appointments.http.idempotency import IDEMPOTENCY_KEY_PATTERN, UNCONFIRMED, KeyedRequest, OncePerKey
from appointments.http.schemas import (
    DEFAULT_PAGE_SIZE,
    INSURED_ID_PATTERN,
    MAX_PAGE_SIZE,
    PAGE_TOKEN_PATTERN,
    AppointmentListView,
    AppointmentView,
    CreateAppointmentBody,
    decode_page_token,
    encode_page_token,
)
from appointments.messages import AppointmentMessage
from appointments.ports import ApiKeyCheck, AppointmentRepository, AppointmentRequestPublisher

if TYPE_CHECKING:  # imported when used: a request without an Idempotency-Key, or not for /docs, needs neither
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

logger = Logger(child=True)

TITLE = "Rimac appointments"
VERSION = "1.0.0"
DESCRIPTION = "Medical appointments for Peru and Chile: request one, then follow its status."
LIST_QUERY_PARAMETERS = frozenset({"limit", "nextToken"})


def security_schemes() -> dict[str, SecurityScheme]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    return {"apiKey": APIKey(name=API_KEY_HEADER, **{"in": APIKeyIn.header})}


@dataclass(frozen=True)
class HttpBackend:
    """What the routes talk to; the composition root (entrypoints/http.py) builds the real one."""

    repository: AppointmentRepository
    publisher: AppointmentRequestPublisher
    api_key: ApiKeyCheck
    # The store, or what makes it when the first request with an Idempotency-Key comes.
    idempotency_store: BasePersistenceLayer | Callable[[], BasePersistenceLayer] | None = None


def _wired(backend: HttpBackend | None) -> HttpBackend:
    if backend is None:
        raise RuntimeError("this app was built to describe the routes, not to serve them")
    return backend


def _accepted_view(app: Resolver, accepted: services.Accepted) -> dict[str, Any]:
    appointment = accepted.appointment
    log = logger.info if accepted.handed_over else logger.warning
    log(
        "appointment accepted"
        if accepted.handed_over
        else "appointment accepted; SNS refused it, kept for the reconciler",
        appointment_id=appointment.appointment_id,
        country=appointment.country.value,
        handed_over=accepted.handed_over,
        api_client=caller(app),
    )
    view = AppointmentView.from_domain(appointment).model_dump(mode="json")
    app.append_context(created=view)  # type: ignore[no-untyped-call]  # cleared after the request
    return view


def _request_once(app: Resolver, backend: HttpBackend, data: KeyedRequest) -> dict[str, Any]:
    """The POST's work, made once per Idempotency-Key: the answer, or the appointment to write
    again when the store did not confirm it."""
    request_id = app.current_event.request_context.request_id
    try:
        accepted = services.request_appointment(
            data.request.to_domain(request_id), backend.repository, backend.publisher
        )
    except WriteUnconfirmed as lost:
        # Kept as this key's answer: a retry with the key writes this very appointment again
        # (see _confirm), so the client finds the one it may have made.
        return {UNCONFIRMED: AppointmentMessage.from_domain(lost.appointment).model_dump(mode="json")}
    return _accepted_view(app, accepted)


def _confirm(app: Resolver, backend: HttpBackend, unconfirmed: dict[str, Any]) -> Response[dict[str, Any]]:
    """Write the appointment whose store was not confirmed again: 202 once it is stored."""
    appointment = AppointmentMessage.model_validate(unconfirmed).to_domain()
    try:
        accepted = services.accept_again(appointment, backend.repository, backend.publisher)
    except WriteUnconfirmed:
        logger.warning(
            "appointment not confirmed stored",
            appointment_id=appointment.appointment_id,
            api_client=caller(app),
        )
        message = (
            "the appointment may not have been stored; send the same request again, with the "
            "same Idempotency-Key, to settle it"
        )
        body = {"message": message, "appointmentId": appointment.appointment_id}
        return answer(HTTPStatus.SERVICE_UNAVAILABLE, body)
    return answer(HTTPStatus.ACCEPTED, _accepted_view(app, accepted))


def create_app(
    backend: HttpBackend | None, resolver: type[Resolver] = APIGatewayHttpResolver, docs: bool = False
) -> Resolver:
    """The routes over `backend`, and with `docs` the Swagger UI page at /docs. Without a backend
    (None) the app only describes itself: that is how the OpenAPI document is generated, and
    calling a route then is an error."""
    # Validation runs as a middleware after the checks, so a caller without a key learns nothing
    # about the body, and an oversized body is never parsed.
    app = resolver(enable_validation=False)
    once_per_key = None
    if backend is not None:
        checks = ChecksBeforeParsing(backend.api_key)
        app.use(middlewares=[checks, OpenAPIRequestValidationMiddleware()])  # type: ignore[no-untyped-call]
        if backend.idempotency_store is not None:
            once_per_key = OncePerKey(partial(_request_once, app, backend), backend.idempotency_store)

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
            409: documented_error("A request with this Idempotency-Key is still in progress"),
            **ERROR_RESPONSES,
            503: documented_error(
                "The API key could not be checked just now (send again after Retry-After seconds), or "
                "the store did not confirm the write: then the answer names the appointment, and the "
                "same request with the same Idempotency-Key settles it"
            ),
        },
    )
    def create_appointment(
        body: Annotated[CreateAppointmentBody, Body()],
        idempotency_key: Annotated[
            str | None,
            Header(
                alias="Idempotency-Key",
                pattern=IDEMPOTENCY_KEY_PATTERN,
                max_length=128,
                description="Makes a retried request safe: 1 to 128 printable ASCII characters",
            ),
        ] = None,
    ) -> Response[dict[str, Any]]:
        served = _wired(backend)
        data = KeyedRequest(client=caller(app), key=idempotency_key, request=body)
        if idempotency_key is None or once_per_key is None:
            created = _request_once(app, served, data)
        else:
            try:
                created = once_per_key(data=data, context=app.lambda_context)
            except IdempotencyPersistenceLayerError:
                # The appointment was stored and its answer made, but the key's record was not
                # completed: the client still gets the appointment it made.
                if "created" not in app.context:
                    raise
                created = app.context["created"]
                logger.warning("the Idempotency-Key's record was not completed", api_client=caller(app))
        if UNCONFIRMED in created:
            return _confirm(app, served, created[UNCONFIRMED])
        return answer(HTTPStatus.ACCEPTED, created)

    @app.get(
        "/appointments/<insuredId>",
        summary="List an insured's appointments, newest first, a page at a time",
        description=(
            f"At most `limit` appointments (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE}). "
            "When more follow, the answer carries `nextToken`: send it back as the `nextToken` "
            "query parameter for the next page. The token is opaque and belongs to this insured's "
            "list; any other value is answered 400."
        ),
        responses={
            200: {
                "description": "A page of the appointments",
                "content": {"application/json": {"model": AppointmentListView}},
            },
            **ERROR_RESPONSES,
        },
    )
    def list_appointments(
        insuredId: Annotated[str, Path(pattern=INSURED_ID_PATTERN)],  # noqa: N803 (the route's name)
        limit: Annotated[
            int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}")
        ] = DEFAULT_PAGE_SIZE,
        nextToken: Annotated[  # noqa: N803 (the parameter's public name)
            str | None,
            Query(pattern=PAGE_TOKEN_PATTERN, description="The previous page's nextToken"),
        ] = None,
    ) -> Response[dict[str, Any]]:
        # As with a body's fields: a parameter the route does not know is refused, not ignored.
        unknown = sorted(set(app.current_event.query_string_parameters or {}) - LIST_QUERY_PARAMETERS)
        if unknown:
            return invalid_request(
                [{"field": name, "message": "unknown query parameter"} for name in unknown]
            )
        after = decode_page_token(nextToken, insuredId) if nextToken is not None else None
        page = services.list_appointments(insuredId, _wired(backend).repository, limit, after)
        # Which client application read whose appointments.
        logger.info(
            "appointments listed", insured_id=insuredId, count=len(page.items), api_client=caller(app)
        )
        listed = AppointmentListView(
            items=[AppointmentView.from_domain(a) for a in page.items],
            nextToken=encode_page_token(insuredId, page.after) if page.after is not None else None,
        )
        return answer(
            HTTPStatus.OK,
            listed.model_dump(mode="json", exclude={"nextToken"} if listed.nextToken is None else None),
        )

    if docs:
        from aws_lambda_powertools.event_handler.openapi.models import Server

        app.enable_swagger(
            path=DOCS_PATH,
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            # Relative: the page calls the API it was served from, whatever the host and stage.
            servers=[Server(url=".")],
            security_schemes=security_schemes(),
            security=[{"apiKey": []}],
            # Gzip comes back base64-encoded, which an HTTP API decodes; a REST API decodes it only
            # for its BinaryMediaTypes, and would hand the browser the base64 text as a gzip body.
            compress=issubclass(resolver, APIGatewayHttpResolver),
        )
    answer_errors(app)
    return app
