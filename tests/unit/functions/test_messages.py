"""The message contracts' readers: a newer writer's fields are read past and logged once, a body
from before versions is 1.0, and a major version the reader does not know is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from appointments import messages
from appointments.domain import Appointment, AppointmentRequest, AppointmentStatus, Country, SlotOutcome
from appointments.http.schemas import AppointmentView
from appointments.messages import (
    AppointmentMessage,
    AppointmentSettledDetail,
    UnknownMajorVersion,
    read_appointment_message,
    read_settled_event,
)

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
APPOINTMENT = Appointment.pending(
    "01JDMESSAGE000000000000001", AppointmentRequest("PE001", 42, Country.PE, "req-1"), T0
)
SETTLED = APPOINTMENT.outcome_event(SlotOutcome.REJECTED, T0)

UNKNOWN = "message carries fields this reader does not know; read without them"
REFUSED = "message of a major version this reader does not know"


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts as a new process would: no field set reported yet."""
    monkeypatch.setattr(messages, "_unknown_reported", set())


def logged(caplog: pytest.LogCaptureFixture, message: str) -> list[Any]:
    return [record for record in caplog.records if record.getMessage().startswith(message)]


def message_body(**changes: Any) -> str:
    body = AppointmentMessage.from_domain(APPOINTMENT).model_dump(mode="json")
    return json.dumps(body | changes)


def event_body(detail_changes: dict[str, Any] | None = None, **envelope: Any) -> str:
    detail = AppointmentSettledDetail.from_domain(SETTLED).model_dump(mode="json")
    return json.dumps(
        {
            "version": "0",  # EventBridge's envelope version, not the detail's
            "id": "e-1",
            "source": "rimac.appointments",
            "detail-type": "AppointmentRejected",
            "time": "2026-11-28T10:00:00Z",
            "detail": detail | (detail_changes or {}),
        }
        | envelope
    )


def test_writers_put_the_current_version_in_each_body() -> None:
    assert json.loads(message_body())["version"] == messages.APPOINTMENT_MESSAGE_VERSION == "1.0"
    assert json.loads(event_body())["detail"]["version"] == messages.SETTLED_DETAIL_VERSION == "1.0"


def test_the_message_is_not_the_http_view() -> None:
    assert not issubclass(AppointmentMessage, AppointmentView)
    assert AppointmentView.model_config.get("extra") == "forbid"
    assert AppointmentMessage.model_config.get("extra") == "allow"


def test_a_newer_writers_message_is_read_and_its_new_fields_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    newer = message_body(version="1.3", channel="mobile", priority=2)

    first = read_appointment_message(newer)
    second = read_appointment_message(newer)

    assert first == second == APPOINTMENT
    [warning] = logged(caplog, UNKNOWN)
    assert warning.unknown_fields == ["channel", "priority"]
    assert (warning.contract, warning.version) == ("AppointmentMessage", "1.3")
    assert (warning.appointment_id, warning.correlation_id) == (APPOINTMENT.appointment_id, "req-1")


def test_another_set_of_unknown_fields_is_logged_again(caplog: pytest.LogCaptureFixture) -> None:
    read_appointment_message(message_body(channel="mobile"))
    read_appointment_message(message_body(channel="web"))  # same field set: not again
    read_appointment_message(message_body(channel="web", priority=1))

    assert [r.unknown_fields for r in logged(caplog, UNKNOWN)] == [["channel"], ["channel", "priority"]]


def test_a_message_without_version_is_read_as_version_one(caplog: pytest.LogCaptureFixture) -> None:
    """What the HTTP function published before versions existed: the appointment's HTTP view."""
    before_versions = AppointmentView.from_domain(APPOINTMENT).model_dump(mode="json")
    before_versions["correlationId"] = APPOINTMENT.correlation_id

    assert read_appointment_message(json.dumps(before_versions)) == APPOINTMENT
    assert logged(caplog, UNKNOWN) == []


@pytest.mark.parametrize("version", ["2.0", "0.9", 2, "two"])
def test_a_message_of_a_major_version_the_reader_does_not_know_is_refused_and_said_so(
    caplog: pytest.LogCaptureFixture, version: object
) -> None:
    # A newer major may drop what this one requires: refused for its version, not a missing field.
    body = json.loads(message_body(version=version))
    del body["scheduleId"]

    with pytest.raises(UnknownMajorVersion) as refused:
        read_appointment_message(json.dumps(body))

    assert refused.value.version == version
    [error] = logged(caplog, REFUSED)
    assert (error.contract, error.version, error.appointment_id) == (
        "AppointmentMessage",
        version,
        APPOINTMENT.appointment_id,
    )


def test_a_newer_writers_event_is_read_and_its_new_fields_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    newer = event_body(
        {"version": "1.1", "room": "B-12"}, replayName="r"
    )  # envelope fields are EventBridge's

    first = read_settled_event(newer)
    read_settled_event(newer)

    assert first == SETTLED
    assert first.status is AppointmentStatus.REJECTED
    [warning] = logged(caplog, UNKNOWN)
    assert (warning.contract, warning.unknown_fields) == ("AppointmentSettledDetail", ["room"])


def test_an_event_of_a_major_version_the_reader_does_not_know_is_refused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(UnknownMajorVersion):
        read_settled_event(event_body({"version": "2.0", "settledAt": None}))

    [error] = logged(caplog, REFUSED)
    assert (error.contract, error.version) == ("AppointmentSettledDetail", "2.0")


def test_a_body_that_breaks_the_known_version_is_still_refused_by_validation() -> None:
    with pytest.raises(ValueError, match="scheduleId"):
        read_appointment_message(message_body(scheduleId="soon"))
    with pytest.raises(ValueError, match="detail-type"):
        read_settled_event(event_body(**{"detail-type": "AppointmentMoved"}))
