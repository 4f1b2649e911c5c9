"""The HTTP API: routes, request validation and the one place where errors become status codes.

The same routes serve both front doors the template offers: an HTTP API (API Gateway v2,
payload format 2.0) and a REST API (API Gateway v1, payload format 1.0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayHttpResolver,
    APIGatewayRestResolver,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments import services
from appointments.domain import WriteUnconfirmed
from appointments.messages import AppointmentMessage
from appointments.ports import (
    ApiKeyCheck,
    AppointmentRepository,
    AppointmentRequestPublisher,
    KeysUnavailable,
)
from appointments.schemas import (
    DEFAULT_PAGE_SIZE,
    INSURED_ID_PATTERN,
    MAX_PAGE_SIZE,
    PAGE_TOKEN_PATTERN,
    AppointmentListView,
    AppointmentView,
    CreateAppointmentBody,
    ErrorView,
    InvalidPageToken,
    decode_page_token,
    encode_page_token,
)

if TYPE_CHECKING:  # imported when used: a request without an Idempotency-Key, or not for /docs, needs neither
    from aws_lambda_powertools.event_handler.openapi.models import SecurityScheme
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig

logger = Logger(child=True)


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


def _json(status: HTTPStatus, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status.value, content_type=content_types.APPLICATION_JSON, body=body)


Resolver = APIGatewayHttpResolver | APIGatewayRestResolver


API_KEY_HEADER = "x-api-key"
MAX_BODY_BYTES = 8 * 1024  # an appointment request is under 200 bytes
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"  # printable ASCII, no spaces
# The answer kept under an Idempotency-Key when the store did not confirm the write: the
# appointment, to be written again by the next request with the key.
UNCONFIRMED = "unconfirmed"


def _error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorView}}}


LIST_QUERY_PARAMETERS = frozenset({"limit", "nextToken"})
DOCS_PATH = "/docs"  # Swagger UI; `/docs?format=json` is the OpenAPI document
# How API Gateway names the docs route it matched: the HTTP API's routeKey (the template's
# DocsRoute) and the REST API's resource (DocsResource, under the root).
DOCS_ROUTE_KEY = f"GET {DOCS_PATH}"
DOCS_RESOURCE = DOCS_PATH
TITLE = "Rimac appointments"
VERSION = "1.0.0"
DESCRIPTION = "Medical appointments for Peru and Chile: request one, then follow its status."


def security_schemes() -> dict[str, SecurityScheme]:
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    return {"apiKey": APIKey(name=API_KEY_HEADER, **{"in": APIKeyIn.header})}


ERROR_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _error("Invalid body, path, query or header: one entry per bad field"),
    401: _error("No x-api-key header"),
    403: _error("Wrong x-api-key"),
    413: _error("Body larger than 8 KiB"),
    415: _error("Body not sent as application/json"),
    500: _error("Something failed on our side: the answer carries the requestId to quote"),
    503: _error(
        "The API key could not be checked just now: send the request again after Retry-After seconds"
    ),
}


IDEMPOTENCY_RECORD_SECONDS = 24 * 3600  # how long a key holds its answer (the table's TTL)


@cache
def _idempotency_config() -> IdempotencyConfig:
    """Same client, key and body within a day: the stored answer is returned. Same client and key,
    other body: 422. A key is its client's own: another client sending it makes its own request."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[client, key]",
        payload_validation_jmespath="request",
        expires_after_seconds=IDEMPOTENCY_RECORD_SECONDS,
        raise_on_no_idempotency_key=True,
    )


def _idempotent(
    app: Resolver,
    request_once: Callable[..., dict[str, Any]],
    store: BasePersistenceLayer | Callable[[], BasePersistenceLayer] | None,
) -> Callable[..., dict[str, Any]]:
    """powertools' idempotency, and the store (a DynamoDB client), are loaded by the first request
    that sends an Idempotency-Key: a cold start serving any other request does without them."""
    if store is None:
        return request_once
    wrapped: list[Callable[..., dict[str, Any]]] = []

    def request_with_key(data: dict[str, Any]) -> dict[str, Any]:
        if not wrapped:
            from aws_lambda_powertools.utilities.idempotency import idempotent_function

            persistence = store() if callable(store) else store
            wrapped.append(
                idempotent_function(
                    data_keyword_argument="data", persistence_store=persistence, config=_idempotency_config()
                )(request_once)
            )
        # an in-progress record expires with the invocation
        _idempotency_config().register_lambda_context(app.lambda_context)
        return wrapped[0](data=data)

    return request_with_key


# Seconds a caller is asked to wait before sending again a request the API could not take just now.
RETRY_AFTER_SECONDS = 1


@dataclass(frozen=True)
class HttpBackend:
    """What the routes talk to; the composition root (entrypoints/http.py) builds the real one."""

    repository: AppointmentRepository
    publisher: AppointmentRequestPublisher
    api_key: ApiKeyCheck
    # The store, or what makes it when the first request with an Idempotency-Key comes.
    idempotency_store: BasePersistenceLayer | Callable[[], BasePersistenceLayer] | None = None


def _body_size(event: BaseProxyEvent) -> int:
    body = event.body or ""
    return len(body) * 3 // 4 if event.is_base64_encoded else len(body.encode())


JSON_MEDIA_TYPE = "application/json"


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


def _asks_for_docs(event: BaseProxyEvent) -> bool:
    """Whether API Gateway routed this request to the docs page, the one public route: told by the
    route it matched (an HTTP API's routeKey, a REST API's resource), never by the path. A REST
    API hands over the path without its stage, so on a stage named `appointments` the insured
    `docs`'s list, /appointments/appointments/docs, arrives as the path /appointments/docs."""
    if isinstance(event, APIGatewayProxyEventV2):
        return event.get("routeKey") == DOCS_ROUTE_KEY
    return event.http_method == "GET" and event.get("resource") == DOCS_RESOURCE


def _refusal(
    event: BaseProxyEvent, api_key: ApiKeyCheck
) -> tuple[Response[dict[str, Any]] | None, str | None]:
    """The checks made before a request is parsed: API key, body size, content type. Returns the
    answer that refuses the request (or None) and the client application its key belongs to."""
    if _asks_for_docs(event):
        return None, None  # the documentation page is public; what it calls is not
    headers = {name.lower(): value for name, value in (event.headers or {}).items()}
    given = headers.get(API_KEY_HEADER)
    if not given:
        return _json(HTTPStatus.UNAUTHORIZED, {"message": "send your API key in the x-api-key header"}), None
    client = api_key.client(given)
    if client is None:
        return _json(HTTPStatus.FORBIDDEN, {"message": "this API key is not valid"}), None
    if _body_size(event) > MAX_BODY_BYTES:
        message = f"the body must be under {MAX_BODY_BYTES} bytes"
        return _json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": message}), client
    content_type = headers.get("content-type", "")
    if event.body and content_type and _media_type(content_type) != JSON_MEDIA_TYPE:
        # Refused here: a form or multipart body would otherwise be parsed as one, and fail
        # field by field (or, without a boundary, not at all).
        message = "send the body as JSON with the header content-type: application/json"
        return _json(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, {"message": message}), client
    return None, client


def create_app(
    backend: HttpBackend | None, resolver: type[Resolver] = APIGatewayHttpResolver, docs: bool = False
) -> Resolver:
    """The routes over `backend`, and with `docs` the Swagger UI page at /docs. Without a backend
    (None) the app only describes itself: that is how the OpenAPI document is generated, and
    calling a route then is an error."""
    # Validation runs as a middleware after the checks below, so a caller without a key learns
    # nothing about the body, and an oversized body is never parsed.
    app = resolver(enable_validation=False)

    def wired() -> HttpBackend:
        if backend is None:
            raise RuntimeError("this app was built to describe the routes, not to serve them")
        return backend

    def checks_before_parsing(app: Resolver, next_middleware: NextMiddleware) -> Response[Any]:
        refusal, client = _refusal(app.current_event, wired().api_key)
        if refusal is not None:
            return refusal
        app.append_context(api_client=client)  # type: ignore[no-untyped-call]  # cleared after the request
        _json_as_the_parser_reads_it(app.current_event)
        return next_middleware(app)

    def caller() -> str | None:
        """The client application whose key called, for the log lines (never the key)."""
        client = app.context.get("api_client")
        return str(client) if client else None

    app.use(middlewares=[checks_before_parsing, OpenAPIRequestValidationMiddleware()])  # type: ignore[no-untyped-call]

    def accepted_view(accepted: services.Accepted) -> dict[str, Any]:
        appointment = accepted.appointment
        log = logger.info if accepted.handed_over else logger.warning
        log(
            "appointment accepted"
            if accepted.handed_over
            else "appointment accepted; SNS refused it, kept for the reconciler",
            appointment_id=appointment.appointment_id,
            country=appointment.country.value,
            handed_over=accepted.handed_over,
            api_client=caller(),
        )
        view = AppointmentView.from_domain(appointment).model_dump(mode="json")
        app.append_context(created=view)  # type: ignore[no-untyped-call]  # cleared after the request
        return view

    def request_once(data: dict[str, Any]) -> dict[str, Any]:
        body = CreateAppointmentBody.model_validate(data["request"])
        request_id = app.current_event.request_context.request_id
        try:
            accepted = services.request_appointment(
                body.to_domain(request_id), wired().repository, wired().publisher
            )
        except WriteUnconfirmed as lost:
            # Kept as this key's answer: a retry with the key writes this very appointment again
            # (see create_appointment), so the client finds the one it may have made.
            return {UNCONFIRMED: AppointmentMessage.from_domain(lost.appointment).model_dump(mode="json")}
        return accepted_view(accepted)

    def confirm(unconfirmed: dict[str, Any]) -> Response[dict[str, Any]]:
        """Write the appointment whose store was not confirmed again: 202 once it is stored."""
        appointment = AppointmentMessage.model_validate(unconfirmed).to_domain()
        try:
            accepted = services.accept_again(appointment, wired().repository, wired().publisher)
        except WriteUnconfirmed:
            logger.warning(
                "appointment not confirmed stored",
                appointment_id=appointment.appointment_id,
                api_client=caller(),
            )
            message = (
                "the appointment may not have been stored; send the same request again, with the "
                "same Idempotency-Key, to settle it"
            )
            body = {"message": message, "appointmentId": appointment.appointment_id}
            return _json(HTTPStatus.SERVICE_UNAVAILABLE, body)
        return _json(HTTPStatus.ACCEPTED, accepted_view(accepted))

    request_with_key = _idempotent(app, request_once, backend.idempotency_store if backend else None)

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
            409: _error("A request with this Idempotency-Key is still in progress"),
            **ERROR_RESPONSES,
            503: _error(
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
        # The client application whose API key called is part of the key: one client cannot reach
        # another's answer (or block its key with a 422) by sending the same Idempotency-Key.
        data = {"client": caller(), "key": idempotency_key, "request": body.model_dump(mode="json")}
        if idempotency_key is None:
            created = request_once(data=data)
        else:
            try:
                created = request_with_key(data=data)
            except IdempotencyPersistenceLayerError:
                # The appointment was stored and its answer made, but the key's record was not
                # completed: the client still gets the appointment it made.
                if "created" not in app.context:
                    raise
                created = app.context["created"]
                logger.warning("the Idempotency-Key's record was not completed", api_client=caller())
        if UNCONFIRMED in created:
            return confirm(created[UNCONFIRMED])
        return _json(HTTPStatus.ACCEPTED, created)

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
            problems = [{"field": name, "message": "unknown query parameter"} for name in unknown]
            return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": problems})
        after = decode_page_token(nextToken, insuredId) if nextToken is not None else None
        page = services.list_appointments(insuredId, wired().repository, limit, after)
        # Which client application read whose appointments.
        logger.info("appointments listed", insured_id=insuredId, count=len(page.items), api_client=caller())
        listed = AppointmentListView(
            items=[AppointmentView.from_domain(a) for a in page.items],
            nextToken=encode_page_token(insuredId, page.after) if page.after is not None else None,
        )
        return _json(
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

    # The one place where errors become answers.
    def bad_request(error: RequestValidationError) -> Response[dict[str, Any]]:
        return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": _field_errors(error)})

    def bad_page_token(error: InvalidPageToken) -> Response[dict[str, Any]]:
        problem = {"field": "nextToken", "message": str(error)}
        return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": [problem]})

    def key_reused(error: IdempotencyValidationError) -> Response[dict[str, Any]]:
        message = "this Idempotency-Key was used with another body; use a new key for a new request"
        return _json(HTTPStatus.UNPROCESSABLE_ENTITY, {"message": message})

    def key_in_progress(error: IdempotencyAlreadyInProgressError) -> Response[dict[str, Any]]:
        return _json(HTTPStatus.CONFLICT, {"message": "a request with this Idempotency-Key is in progress"})

    def nested_too_deeply(error: RecursionError) -> Response[dict[str, Any]]:
        # The JSON parser gives up on a body of thousands of nested brackets.
        problem = {"field": "body", "message": "the JSON is nested too deeply"}
        return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": [problem]})

    def keys_unavailable(error: KeysUnavailable) -> Response[dict[str, Any]]:
        logger.warning("api keys unavailable", request_id=app.current_event.request_context.request_id)
        message = "the API key could not be checked just now; send the request again in a moment"
        response = _json(HTTPStatus.SERVICE_UNAVAILABLE, {"message": message})
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def unexpected(error: Exception) -> Response[dict[str, Any]]:
        # The detail goes to the log, with the correlation id; the caller gets the request id to
        # quote, never the exception's text (it can name resources and accounts).
        request_id = app.current_event.request_context.request_id
        logger.exception(
            "request failed", request_id=request_id, exception_name=type(error).__name__, api_client=caller()
        )
        message = "something went wrong on our side; quote the requestId if you report it"
        return _json(HTTPStatus.INTERNAL_SERVER_ERROR, {"message": message, "requestId": request_id})

    def no_route(error: Exception) -> Response[dict[str, Any]]:
        # The route's parameter takes a safe set of characters; an id with others (a control
        # character, say) matches no route, but it is a bad insuredId, not a missing page.
        event = app.current_event
        if event.http_method == "GET" and event.path.startswith("/appointments/"):
            problem = {"field": "insuredId", "message": "1 to 32 letters or digits"}
            return _json(HTTPStatus.BAD_REQUEST, {"message": "invalid request", "errors": [problem]})
        return _json(HTTPStatus.NOT_FOUND, {"message": f"no route for {event.http_method} {event.path}"})

    app.not_found(no_route)
    app.exception_handler(RequestValidationError)(bad_request)
    app.exception_handler(InvalidPageToken)(bad_page_token)
    app.exception_handler(IdempotencyValidationError)(key_reused)
    app.exception_handler(IdempotencyAlreadyInProgressError)(key_in_progress)
    app.exception_handler(RecursionError)(nested_too_deeply)
    app.exception_handler(KeysUnavailable)(keys_unavailable)
    app.exception_handler(Exception)(unexpected)

    return app


class AppointmentsApi:
    """Both front doors over the same routes: picks the resolver by the event's payload format
    (2.0 for an HTTP API, 1.0 for a REST API).

    Each app is built by the first request it serves: a function behind one front door never
    builds the other's, and the Swagger UI page (with powertools' OpenAPI models behind it) is
    an app of its own over the same routes, built by the first request for /docs."""

    def __init__(self, backend: HttpBackend) -> None:
        self.backend = backend
        self.apps: dict[tuple[bool, bool], Resolver] = {}

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        http_api = event.get("version") == "2.0"
        docs = _asks_for_docs(APIGatewayProxyEventV2(event) if http_api else APIGatewayProxyEvent(event))
        if (http_api, docs) not in self.apps:
            resolver = APIGatewayHttpResolver if http_api else APIGatewayRestResolver
            self.apps[http_api, docs] = create_app(self.backend, resolver, docs=docs)
        return self.apps[http_api, docs].resolve(event, context)
