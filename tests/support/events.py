"""Events and a context as AWS hands them to the functions, for the unit tests that call an entry
point or the API's resolver: API Gateway's two payload formats, an SQS record, a Lambda context."""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any


@dataclass
class FakeContext:
    """The Lambda context the functions read: their name, ARN, request id, and 10 s left."""

    function_name: str = "appointments-http"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:appointments-http"
    aws_request_id: str = "request-1"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


# The routes of bootstrap/stack/template.yaml (tests/unit/kit/test_template.py holds it to them). API
# Gateway tells the function which one a request matched: the HTTP API's routeKey, the REST API's
# resource.
TEMPLATE_ROUTES = (("POST", "/appointments"), ("GET", "/appointments/{insuredId}"), ("GET", "/docs"))


def matched_route(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    """The template's route `path` (within the stage) matches, and its path parameters; None where
    none does (API Gateway would then not call the function; these tests do)."""
    for route_method, route in TEMPLATE_ROUTES:
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route)  # a parameter takes one segment
        found = re.fullmatch(pattern, path)
        if found and method == route_method:
            return route, found.groupdict()
    return None, {}


def http_event(
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    stage: str = "$default",
) -> dict[str, Any]:
    """Payload format 2.0, as an HTTP API (API Gateway v2) sends it; the path carries the stage
    unless it is $default (the template's)."""
    route, parameters = matched_route(method, path)
    route_key = f"{method} {route}" if route else "$default"
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": urllib.parse.urlencode(query or {}),
        **({"queryStringParameters": query} if query else {}),
        **({"pathParameters": parameters} if parameters else {}),
        "headers": headers,
        "requestContext": {
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "request-1",
            "routeKey": route_key,
            "stage": stage,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def rest_event(
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    query: dict[str, str] | None = None,
    stage: str = "local",
) -> dict[str, Any]:
    """Payload format 1.0, as a REST API (API Gateway v1) sends it: `path` without the stage, the
    request context's path with it."""
    route, parameters = matched_route(method, path)
    return {
        "resource": route or "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {key: [value] for key, value in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {key: [value] for key, value in query.items()} if query else None,
        "pathParameters": parameters or None,
        "stageVariables": None,
        "requestContext": {
            "requestId": "request-1",
            "stage": stage,
            "resourcePath": route or "/{proxy+}",
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


EVENT_FORMATS = {"http-api-v2": http_event, "rest-api-v1": rest_event}


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "0"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:queue",
        "awsRegion": "us-east-1",
    }
