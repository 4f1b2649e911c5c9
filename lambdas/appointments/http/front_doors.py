"""Both front doors over the same routes: an HTTP API (API Gateway v2, payload format 2.0) and a
REST API (API Gateway v1, payload format 1.0), told apart by the event."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent, APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from appointments.http.checks import asks_for_docs
from appointments.http.errors import Resolver
from appointments.http.routes import HttpBackend, create_app


class AppointmentsApi:
    """Picks the resolver by the event's payload format (2.0 for an HTTP API, 1.0 for a REST API).

    Each app is built by the first request it serves: a function behind one front door never
    builds the other's, and the Swagger UI page (with powertools' OpenAPI models behind it) is
    an app of its own over the same routes, built by the first request for /docs."""

    def __init__(self, backend: HttpBackend) -> None:
        self.backend = backend
        self.apps: dict[tuple[bool, bool], Resolver] = {}

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        http_api = event.get("version") == "2.0"
        docs = asks_for_docs(APIGatewayProxyEventV2(event) if http_api else APIGatewayProxyEvent(event))
        if (http_api, docs) not in self.apps:
            resolver = APIGatewayHttpResolver if http_api else APIGatewayRestResolver
            self.apps[http_api, docs] = create_app(self.backend, resolver, docs=docs)
        return self.apps[http_api, docs].resolve(event, context)
