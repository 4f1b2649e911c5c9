"""The HTTP function's routes, validation and error mapping, driven with API Gateway events of both
payload formats: 2.0 (HTTP API) and 1.0 (REST API). Every test runs once per format."""

from __future__ import annotations

import base64
import io
import json
import logging
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools import Logger

from appointments.adapters.ssm import ApiKey
from appointments.domain import Appointment, AppointmentRequest, AppointmentStatus, Country
from appointments.http import routes
from appointments.http.front_doors import AppointmentsApi
from appointments.http.routes import HttpBackend
from appointments.ports import KeysUnavailable
from appointments.services import new_appointment_id
from tests.support.events import EVENT_FORMATS, FakeContext, http_event
from tests.support.fakes import (
    InMemoryAppointmentRepository,
    InMemoryIdempotencyStore,
    InMemoryRequestPublisher,
)

API_KEY = "test-key-0123456789"
T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


class Api:
    def __init__(self, payload_format: str, stored_keys: str = API_KEY) -> None:
        """`stored_keys`: the API key parameter's value, one plain key or a client name -> key object."""
        self.repository = InMemoryAppointmentRepository()
        self.publisher = InMemoryRequestPublisher()
        self.idempotency = InMemoryIdempotencyStore()
        self.api = AppointmentsApi(
            HttpBackend(self.repository, self.publisher, ApiKey(lambda force: stored_keys), self.idempotency)
        )
        self.make_event = EVENT_FORMATS[payload_format]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str | None = "application/json",
        api_key: str | None = API_KEY,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        raw = body if isinstance(body, str) or body is None else json.dumps(body)
        headers = {"content-type": content_type} if content_type else {}
        if api_key is not None:
            headers["x-api-key"] = api_key
        headers |= extra_headers or {}
        path, _, query = path.partition("?")
        event = self.make_event(method, path, raw, headers, dict(urllib.parse.parse_qsl(query)))
        response = self.api.resolve(event, FakeContext())  # type: ignore[arg-type]
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


@pytest.fixture(params=sorted(EVENT_FORMATS))
def api(request: pytest.FixtureRequest) -> Api:
    return Api(request.param)


def test_a_valid_request_is_accepted_stored_pending_and_published(api: Api) -> None:
    status, body = api.call(
        "POST", "/appointments", {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}
    )

    assert status == 202
    assert body["status"] == "pending"
    assert (body["insuredId"], body["scheduleId"], body["countryISO"]) == ("PE001", 1, "PE")
    [stored] = api.repository.list_for_insured("PE001").items
    assert stored.appointment_id == body["appointmentId"]
    assert stored.status is AppointmentStatus.PENDING
    assert [a.appointment_id for a in api.publisher.published] == [body["appointmentId"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("insuredId", ""),
        ("insuredId", "P" * 33),
        ("insuredId", "PE-001"),
        ("insuredId", "PE 001"),
        ("insuredId", 1001),
        ("scheduleId", 0),
        ("scheduleId", -5),
        ("scheduleId", "1"),
        ("scheduleId", 1.5),
        ("scheduleId", True),
        ("countryISO", "AR"),
        ("countryISO", "pe"),
        ("countryISO", None),
    ],
)
def test_a_bad_field_gets_400_naming_the_field_and_nothing_is_stored(
    api: Api, field: str, value: Any
) -> None:
    body = {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE", field: value}

    status, answer = api.call("POST", "/appointments", body)

    assert status == 400
    assert [error["field"] for error in answer["errors"]] == [field]
    assert api.repository.items == {}
    assert api.publisher.published == []


def test_every_bad_field_is_named_at_once_including_unknown_and_missing_ones(api: Api) -> None:
    status, answer = api.call("POST", "/appointments", {"insuredId": "x!", "scheduleId": 0, "vip": True})

    assert status == 400
    assert sorted(error["field"] for error in answer["errors"]) == [
        "countryISO",
        "insuredId",
        "scheduleId",
        "vip",
    ]
    assert {e["field"]: e["message"] for e in answer["errors"]}["vip"] == "unknown field"


@pytest.mark.parametrize("raw", ["not json", "{", "[1, 2]", '"PE001"', ""])
def test_a_body_that_is_not_a_json_object_gets_400(api: Api, raw: str) -> None:
    status, answer = api.call("POST", "/appointments", raw)

    assert status == 400
    assert answer["message"] == "invalid request"
    assert api.repository.items == {}


def test_a_form_body_gets_415_with_the_content_type_to_use(api: Api) -> None:
    status, answer = api.call(
        "POST",
        "/appointments",
        '{"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}',
        content_type="application/x-www-form-urlencoded",
    )

    assert status == 415
    assert "application/json" in answer["message"]
    assert api.repository.items == {}


@pytest.mark.parametrize(
    "content_type",
    [
        "Application/JSON",
        "application/json; charset=utf-8",
        "APPLICATION/JSON;charset=UTF-8",
        "application/json ",
    ],
)
def test_a_json_content_type_is_accepted_in_any_case_and_with_parameters(api: Api, content_type: str) -> None:
    status, body = api.call("POST", "/appointments", BODY, content_type=content_type)

    assert status == 202, body
    assert len(api.repository.items) == 1


@pytest.mark.parametrize(
    "content_type", ["application/json-seq", "application/jsonp", "text/json", "; charset=utf-8"]
)
def test_a_media_type_that_only_starts_like_json_gets_415(api: Api, content_type: str) -> None:
    status, _ = api.call("POST", "/appointments", BODY, content_type=content_type)

    assert status == 415
    assert api.repository.items == {}


def test_listing_returns_the_insureds_appointments_newest_first(api: Api) -> None:
    created = [
        api.call("POST", "/appointments", {"insuredId": insured, "scheduleId": n, "countryISO": "CL"})[1]
        for n, insured in enumerate(["CL001", "CL002", "CL001", "CL001"], start=1)
    ]

    status, body = api.call("GET", "/appointments/CL001")

    assert status == 200
    assert [item["scheduleId"] for item in body["items"]] == [4, 3, 1]
    assert {item["appointmentId"] for item in body["items"]} == {
        c["appointmentId"] for c in created if c["insuredId"] == "CL001"
    }


def test_an_unknown_insured_gets_an_empty_list(api: Api) -> None:
    assert api.call("GET", "/appointments/NOBODY") == (200, {"items": []})


def stored(api: Api, insured: str, count: int) -> list[str]:
    """`count` appointments of `insured` put straight into the repository; their ids, newest first."""
    for n in range(count):
        request = AppointmentRequest(insured, 1000 + n, Country.PE)
        api.repository.add(Appointment.pending(new_appointment_id(), request, T0))
    return sorted((i for (who, i) in api.repository.items if who == insured), reverse=True)


def walk(api: Api, path: str) -> list[list[str]]:
    """Every page of a listing, following nextToken; the ids of each."""
    pages, token = [], None
    while True:
        status, body = api.call("GET", path + (f"&nextToken={token}" if token else ""))
        assert status == 200, body
        pages.append([item["appointmentId"] for item in body["items"]])
        token = body.get("nextToken")
        if token is None:
            return pages


def test_a_long_list_comes_a_page_at_a_time_each_appointment_once_newest_first(api: Api) -> None:
    ids = stored(api, "CL001", 7)
    stored(api, "CL002", 2)

    pages = walk(api, "/appointments/CL001?limit=3")

    assert [len(page) for page in pages] == [3, 3, 1]
    assert [i for page in pages for i in page] == ids
    assert walk(api, "/appointments/CL001?limit=7") == [ids]  # exactly one page: no token


def test_a_page_holds_50_unless_asked_and_at_most_100(api: Api) -> None:
    ids = stored(api, "PE001", 120)

    _, default = api.call("GET", "/appointments/PE001")
    _, largest = api.call("GET", "/appointments/PE001?limit=100")

    assert [item["appointmentId"] for item in default["items"]] == ids[:50]
    assert len(largest["items"]) == 100
    assert "nextToken" in default
    assert "nextToken" in largest


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "2.5"])
def test_a_limit_out_of_range_gets_400_naming_it(api: Api, limit: str) -> None:
    status, answer = api.call("GET", f"/appointments/PE001?limit={limit}")

    assert status == 400
    assert answer["message"] == "invalid request"
    assert [error["field"] for error in answer["errors"]] == ["limit"]


def test_an_unknown_query_parameter_gets_400_naming_it(api: Api) -> None:
    status, answer = api.call("GET", "/appointments/PE001?limit=5&pageSize=5")

    assert status == 400
    assert answer["errors"] == [{"field": "pageSize", "message": "unknown query parameter"}]


def token_of(api: Api, insured: str) -> str:
    _, body = api.call("GET", f"/appointments/{insured}?limit=1")
    return str(body["nextToken"])


@pytest.mark.parametrize(
    "forge",
    [
        lambda good, other: "not!base64",
        lambda good, other: "x" * 201,
        lambda good, other: "bm90IGpzb24",  # base64url of "not json"
        lambda good, other: good[:-3],  # truncated
        lambda good, other: (
            good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
        ),  # one character changed
        lambda good, other: other,  # another insured's
        lambda good, other: encode({"insuredId": "PE001", "appointmentId": "' OR 1=1"}),
        lambda good, other: encode({"insuredId": "PE001", "appointmentId": 7}),
        lambda good, other: encode({"insuredId": "PE001", "appointmentId": "0" * 26, "limit": 1000}),
        lambda good, other: encode(["PE001"]),
    ],
)
def test_a_token_this_api_did_not_give_for_this_list_gets_400_never_a_500(api: Api, forge: Any) -> None:
    stored(api, "PE001", 3)
    stored(api, "CL009", 3)
    token = forge(token_of(api, "PE001"), token_of(api, "CL009"))

    status, answer = api.call("GET", f"/appointments/PE001?nextToken={urllib.parse.quote(token)}")

    assert status == 400, answer
    assert [error["field"] for error in answer["errors"]] == ["nextToken"]


def encode(cursor: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(cursor).encode()).decode().rstrip("=")


def test_a_malformed_insured_id_in_the_path_gets_400(api: Api) -> None:
    status, answer = api.call("GET", "/appointments/" + "X" * 40)

    assert status == 400
    assert [error["field"] for error in answer["errors"]] == ["insuredId"]


def test_an_unknown_route_gets_404(api: Api) -> None:
    status, _ = api.call("DELETE", "/appointments/PE001")

    assert status == 404


BODY = {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}


@pytest.mark.parametrize("payload_format", sorted(EVENT_FORMATS))
def test_keys_that_cannot_be_read_just_now_get_503_with_retry_after_and_nothing_is_stored(
    payload_format: str,
) -> None:
    def unreadable(force: bool) -> str:
        raise KeysUnavailable("the API keys in /k could not be read: ReadTimeoutError")

    api = Api(payload_format)
    api.api = AppointmentsApi(HttpBackend(api.repository, api.publisher, ApiKey(unreadable), api.idempotency))
    event = api.make_event(
        "POST",
        "/appointments",
        json.dumps({"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}),
        {"content-type": "application/json", "x-api-key": API_KEY},
        {},
    )
    response = api.api.resolve(event, FakeContext())  # type: ignore[arg-type]

    assert response["statusCode"] == 503
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    headers |= {k.lower(): v[0] for k, v in (response.get("multiValueHeaders") or {}).items()}
    assert headers["retry-after"] == "1"
    assert json.loads(response["body"]) == {
        "message": "the API key could not be checked just now; send the request again in a moment"
    }
    assert api.repository.list_for_insured("PE001").items == []
    assert api.publisher.published == []


def test_no_api_key_gets_401_and_a_wrong_one_403_before_anything_is_read(api: Api) -> None:
    assert api.call("POST", "/appointments", BODY, api_key=None)[0] == 401
    assert api.call("GET", "/appointments/PE001", api_key="wrong")[0] == 403
    assert api.call("POST", "/appointments", "not json", api_key=None)[0] == 401

    assert api.repository.items == {}


def test_an_oversized_body_gets_413_and_nothing_is_stored(api: Api) -> None:
    status, answer = api.call("POST", "/appointments", {**BODY, "padding": "x" * 9000})

    assert status == 413
    assert "8192" in answer["message"]
    assert api.repository.items == {}


def test_the_same_idempotency_key_and_body_return_the_same_appointment_once(api: Api) -> None:
    key = {"Idempotency-Key": "order-42"}

    first = api.call("POST", "/appointments", BODY, extra_headers=key)
    again = api.call("POST", "/appointments", BODY, extra_headers=key)

    assert first == again
    assert first[0] == 202
    assert len(api.repository.items) == 1
    assert len(api.publisher.published) == 1


def test_the_same_idempotency_key_with_another_body_gets_422(api: Api) -> None:
    key = {"Idempotency-Key": "order-43"}
    api.call("POST", "/appointments", BODY, extra_headers=key)

    status, answer = api.call("POST", "/appointments", {**BODY, "scheduleId": 2}, extra_headers=key)

    assert status == 422
    assert "Idempotency-Key" in answer["message"]
    assert len(api.publisher.published) == 1


CLIENT_KEYS = {"portal": "portal-key-0123456789", "billing": "billing-key-0123456789"}


@pytest.fixture(params=sorted(EVENT_FORMATS))
def two_clients(request: pytest.FixtureRequest) -> Api:
    """An API whose key parameter names two client applications, each with its own key."""
    return Api(request.param, stored_keys=json.dumps(CLIENT_KEYS))


def test_another_client_sending_the_same_idempotency_key_and_body_gets_its_own_appointment(
    two_clients: Api,
) -> None:
    key = {"Idempotency-Key": "order-44"}

    portal = two_clients.call("POST", "/appointments", BODY, api_key=CLIENT_KEYS["portal"], extra_headers=key)
    billing = two_clients.call(
        "POST", "/appointments", BODY, api_key=CLIENT_KEYS["billing"], extra_headers=key
    )
    portal_again = two_clients.call(
        "POST", "/appointments", BODY, api_key=CLIENT_KEYS["portal"], extra_headers=key
    )

    assert (portal[0], billing[0]) == (202, 202)
    assert billing[1]["appointmentId"] != portal[1]["appointmentId"]
    assert portal_again == portal  # each client's retry still finds its own answer
    assert len(two_clients.repository.items) == 2
    assert len(two_clients.publisher.published) == 2


def test_another_client_sending_the_same_idempotency_key_with_another_body_is_accepted_not_422(
    two_clients: Api,
) -> None:
    key = {"Idempotency-Key": "order-45"}
    two_clients.call("POST", "/appointments", BODY, api_key=CLIENT_KEYS["portal"], extra_headers=key)

    status, answer = two_clients.call(
        "POST", "/appointments", {**BODY, "scheduleId": 2}, api_key=CLIENT_KEYS["billing"], extra_headers=key
    )

    assert status == 202, answer
    assert answer["scheduleId"] == 2


def test_without_a_key_each_request_is_a_new_appointment(api: Api) -> None:
    first, again = api.call("POST", "/appointments", BODY), api.call("POST", "/appointments", BODY)

    assert first[1]["appointmentId"] != again[1]["appointmentId"]
    assert len(api.publisher.published) == 2


def test_a_malformed_idempotency_key_gets_400(api: Api) -> None:
    status, answer = api.call("POST", "/appointments", BODY, extra_headers={"Idempotency-Key": "has spaces"})

    assert status == 400
    assert answer["errors"][0]["field"] == "idempotency-key"


def test_a_whole_number_written_with_a_decimal_point_is_a_valid_schedule(api: Api) -> None:
    status, body = api.call(
        "POST", "/appointments", '{"insuredId": "PE001", "scheduleId": 7.0, "countryISO": "PE"}'
    )

    assert (status, body["scheduleId"]) == (202, 7)


@pytest.mark.parametrize("schedule", ["18446744073709551616", "1e20", str(2**53)])
def test_a_schedule_beyond_what_the_flow_can_store_gets_400_and_nothing_is_stored(
    api: Api, schedule: str
) -> None:
    status, body = api.call(
        "POST", "/appointments", f'{{"insuredId": "PE001", "scheduleId": {schedule}, "countryISO": "PE"}}'
    )

    assert status == 400
    assert [error["field"] for error in body["errors"]] == ["scheduleId"]
    assert api.repository.items == {}


def test_a_body_nested_thousands_deep_gets_400_not_the_parsers_error(api: Api) -> None:
    status, body = api.call("POST", "/appointments", "[" * 7000)

    assert status == 400
    assert body == {
        "message": "invalid request",
        "errors": [{"field": "body", "message": "the JSON is nested too deeply"}],
    }


def test_the_largest_schedule_is_accepted(api: Api) -> None:
    status, body = api.call(
        "POST", "/appointments", {"insuredId": "PE001", "scheduleId": 2**53 - 1, "countryISO": "PE"}
    )

    assert (status, body["scheduleId"]) == (202, 2**53 - 1)


def test_an_insured_id_with_characters_the_route_does_not_take_gets_400_not_404(api: Api) -> None:
    status, answer = api.call("GET", "/appointments/\u0084")

    assert status == 400
    assert [error["field"] for error in answer["errors"]] == ["insuredId"]


def test_the_request_id_becomes_the_correlation_id_that_travels_with_the_appointment(api: Api) -> None:
    api.call("POST", "/appointments", BODY)

    [stored] = api.repository.list_for_insured("PE001").items
    [published] = api.publisher.published
    assert stored.correlation_id == published.correlation_id == "request-1"


def test_the_docs_page_is_public_and_serves_swagger_ui_and_the_document(api: Api) -> None:
    page = api.api.resolve(api.make_event("GET", "/docs", None, {}), FakeContext())  # type: ignore[arg-type]

    assert page["statusCode"] == 200
    assert headers_of(page)["Content-Type"].startswith("text/html")
    assert api.call("GET", "/appointments/PE001", api_key=None)[0] == 401  # only the page is public


def test_only_the_docs_page_is_public_not_an_insured_named_docs(api: Api) -> None:
    assert api.call("GET", "/appointments/docs", api_key=None)[0] == 401
    assert api.call("GET", "/appointments/docs")[0] == 200  # with the key: the insured "docs"


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return response.get("headers") or {k: v[0] for k, v in response["multiValueHeaders"].items()}


@pytest.mark.parametrize(
    ("payload_format", "stage"),
    [("rest-api-v1", "appointments"), ("http-api-v2", "$default"), ("http-api-v2", "appointments")],
)
def test_on_a_stage_named_appointments_the_insured_docs_is_not_taken_for_the_public_docs_page(
    payload_format: str, stage: str
) -> None:
    """A REST API hands over the path without its stage: there /appointments/appointments/docs (the
    insured docs's list) arrives as the path /appointments/docs; only the route tells them apart."""
    api = Api(payload_format)
    ids = stored(api, "docs", 2)

    def get(path: str, headers: dict[str, str]) -> dict[str, Any]:
        event = api.make_event("GET", path, None, headers, stage=stage)
        return api.api.resolve(event, FakeContext())  # type: ignore[arg-type]

    anonymous = get("/appointments/docs", {})
    with_key = get("/appointments/docs", {"x-api-key": API_KEY})
    page = get("/docs", {})

    assert anonymous["statusCode"] == 401
    assert with_key["statusCode"] == 200
    assert [item["appointmentId"] for item in json.loads(with_key["body"])["items"]] == ids
    assert page["statusCode"] == 200
    assert headers_of(page)["Content-Type"].startswith("text/html")


class BrokenRepository(InMemoryAppointmentRepository):
    def add(self, appointment: Any) -> None:
        raise RuntimeError("AccessDenied on arn:aws:dynamodb:us-east-1:123456789012:table/secret")


def test_an_unexpected_failure_is_a_500_with_the_request_id_and_no_exception_text(api: Api) -> None:
    api.api = AppointmentsApi(
        HttpBackend(BrokenRepository(), api.publisher, ApiKey(lambda force: API_KEY), api.idempotency)
    )

    status, body = api.call(
        "POST", "/appointments", {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}
    )

    assert status == 500
    assert body == {
        "message": "something went wrong on our side; quote the requestId if you report it",
        "requestId": "request-1",
    }
    assert api.publisher.published == []


def test_when_the_topic_refuses_the_request_is_accepted_and_kept_for_the_reconciler(api: Api) -> None:
    api.publisher.refusing = True

    status, body = api.call(
        "POST", "/appointments", {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}
    )

    assert (status, body["status"]) == (202, "pending")
    # stored pending, where the reconciler's sweep reads it
    [waiting] = api.repository.accepted_between(
        Country.PE, None, datetime.now(UTC) + timedelta(seconds=1)
    ).unsettled
    assert waiting.appointment_id == body["appointmentId"]


def test_a_retry_with_the_same_idempotency_key_after_a_refused_publish_is_the_same_appointment(
    api: Api,
) -> None:
    api.publisher.refusing = True
    body = {"insuredId": "PE001", "scheduleId": 1, "countryISO": "PE"}

    first = api.call("POST", "/appointments", body, extra_headers={"Idempotency-Key": "k-1"})
    api.publisher.refusing = False
    again = api.call("POST", "/appointments", body, extra_headers={"Idempotency-Key": "k-1"})

    assert first == again
    assert len(api.repository.items) == 1


class LogLines:
    """What the function logs, as JSON, through a logger like the one the entry point creates."""

    def __init__(self) -> None:
        self.stream = io.StringIO()
        handler = logging.StreamHandler(self.stream)
        Logger(service=routes.logger.service, logger_handler=handler)
        configured = logging.getLogger(routes.logger.service)
        if handler not in configured.handlers:
            # a logger of this service was made before (an entry point another test imported in
            # this process): powertools keeps it as it is, so this handler joins it, with its formatter
            handler.setFormatter(configured.handlers[0].formatter)
            configured.addHandler(handler)

    def read(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]


def test_each_client_key_is_accepted_and_the_log_lines_name_the_client_never_the_key() -> None:
    keys = {"portal": "portal-key-0123456789", "billing": "billing-key-0123456789"}
    logs = LogLines()
    app = AppointmentsApi(
        HttpBackend(
            InMemoryAppointmentRepository(), InMemoryRequestPublisher(), ApiKey(lambda _: json.dumps(keys))
        )
    )

    def call(method: str, path: str, key: str, body: Any = None) -> int:
        headers = {"x-api-key": key, "content-type": "application/json"}
        event = http_event(method, path, json.dumps(body) if body else None, headers)
        return int(app.resolve(event, FakeContext())["statusCode"])  # type: ignore[arg-type]

    body = {"insuredId": "PE9", "scheduleId": 1, "countryISO": "PE"}
    statuses = [
        call("POST", "/appointments", keys["portal"], body),
        call("GET", "/appointments/PE9", keys["billing"]),
        call("GET", "/appointments/PE9", "not-a-key"),
        call("GET", "/docs", ""),
    ]

    assert statuses == [202, 200, 403, 200]
    lines = logs.read()
    assert [(line["message"], line.get("api_client")) for line in lines] == [
        ("appointment accepted", "portal"),
        ("appointments listed", "billing"),
    ]
    assert lines[1]["insured_id"] == "PE9"
    assert not [line for line in lines for key in keys.values() if key in json.dumps(line)]


def test_a_key_parameter_that_cannot_be_read_is_a_500_that_quotes_no_key() -> None:
    broken = '{"portal": "portal-key-0123456789"'  # a JSON object cut short
    app = AppointmentsApi(
        HttpBackend(InMemoryAppointmentRepository(), InMemoryRequestPublisher(), ApiKey(lambda _: broken))
    )

    event = http_event("GET", "/appointments/PE9", None, {"x-api-key": "portal-key-0123456789"})
    response = app.resolve(event, FakeContext())  # type: ignore[arg-type]

    assert response["statusCode"] == 500
    assert "portal-key" not in response["body"]


def test_a_published_appointment_is_written_once_and_put_in_no_outbox(api: Api) -> None:
    status, body = api.call("POST", "/appointments", BODY)

    assert (status, body["status"]) == (202, "pending")
    assert [a.appointment_id for a in api.publisher.published] == [body["appointmentId"]]
    # the request wrote once and published once; only the reconciler's sweep fills the outbox
    a_second_on = datetime.now(UTC) + timedelta(seconds=1)
    assert api.repository.not_handed_over(Country.PE, a_second_on).items == []
    listed = api.repository.accepted_between(Country.PE, None, a_second_on).unsettled
    assert [a.appointment_id for a in listed] == [body["appointmentId"]]


def test_a_store_whose_answer_was_lost_once_is_confirmed_within_the_request(api: Api) -> None:
    api.repository.answers_lost = 1  # the write landed, its answer did not

    status, body = api.call("POST", "/appointments", BODY, extra_headers={"Idempotency-Key": "lost-1"})

    assert status == 202
    assert [key[1] for key in api.repository.items] == [body["appointmentId"]]
    assert [a.appointment_id for a in api.publisher.published] == [body["appointmentId"]]


@pytest.mark.parametrize("landed", [True, False], ids=["write-had-landed", "write-never-landed"])
def test_an_unconfirmed_store_is_a_503_naming_the_appointment_and_the_same_key_settles_it(
    api: Api, landed: bool
) -> None:
    api.repository.answers_lost, api.repository.lost_before_writing = 2, not landed
    key = {"Idempotency-Key": "unconfirmed-1"}

    status, answer = api.call("POST", "/appointments", BODY, extra_headers=key)
    assert status == 503
    assert "same Idempotency-Key" in answer["message"]
    assert api.publisher.published == []

    again_status, again = api.call("POST", "/appointments", BODY, extra_headers=key)

    assert again_status == 202
    assert again["appointmentId"] == answer["appointmentId"]
    assert [key[1] for key in api.repository.items] == [answer["appointmentId"]]
    assert [a.appointment_id for a in api.publisher.published] == [answer["appointmentId"]]


class IdempotencyStoreFailingToComplete(InMemoryIdempotencyStore):
    def _update_record(self, data_record: Any) -> None:
        raise RuntimeError("the idempotency table timed out")


def test_an_appointment_stored_is_answered_even_when_its_keys_record_cannot_be_completed(api: Api) -> None:
    api.api = AppointmentsApi(
        HttpBackend(
            api.repository, api.publisher, ApiKey(lambda force: API_KEY), IdempotencyStoreFailingToComplete()
        )
    )

    status, body = api.call("POST", "/appointments", BODY, extra_headers={"Idempotency-Key": "k-9"})

    assert (status, body["status"]) == (202, "pending")
    assert [key[1] for key in api.repository.items] == [body["appointmentId"]]
