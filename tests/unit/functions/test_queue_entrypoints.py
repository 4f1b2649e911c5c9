"""The processor's and the callback's entry points with a synthetic SQS batch: each reports in
`batchItemFailures` exactly the records that failed, and its batch-mates are handled. And the
reconciler's, with its schedule's event: it stops when the invocation's time is nearly spent."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

import pytest

from appointments.budgets import Deadline
from appointments.domain import Appointment, AppointmentStatus, Country, SlotOutcome
from appointments.hand_over import RESERVED_SECONDS
from appointments.messages import AppointmentMessage, AppointmentSettledDetail
from bootstrap import names
from tests.support.appointments import appointment
from tests.support.entrypoints import entry_point
from tests.support.events import FakeContext, sqs_record
from tests.support.fakes import (
    InMemoryAppointmentRepository,
    InMemoryCountryUnitOfWork,
    InMemoryEventPublisher,
    InMemoryRequestPublisher,
)

T0 = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)


def numbered(number: int, country: Country = Country.PE) -> Appointment:
    """Appointment `number`, with ids and a slot of its number, so a batch's failures read plainly."""
    return appointment(
        f"PE{number:03}",
        schedule=1000 + number,
        country=country,
        created=T0,
        appointment_id=f"01JDAPPOINTMENT{number:011}",
    )


@pytest.fixture
def processor(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = entry_point(
        "processor",
        monkeypatch,
        COUNTRY_ISO="PE",
        DB_PARAMETERS_PATH=names.db_parameters_path(names.DEFAULT_DB_PARAMETERS_PREFIX, "PE"),
        EVENT_BUS_NAME="bus",
        DB_TLS="off",  # the in-memory unit of work below stands in for MySQL
    )
    monkeypatch.setattr(module, "uow", InMemoryCountryUnitOfWork())
    monkeypatch.setattr(module, "events", InMemoryEventPublisher())
    return module


def test_the_processor_reports_exactly_the_malformed_and_the_misrouted_records(processor: ModuleType) -> None:
    good = [numbered(1), numbered(2)]
    records = [
        sqs_record("m-1", AppointmentMessage.from_domain(good[0]).model_dump_json()),
        sqs_record("m-2", "{not json"),
        sqs_record("m-3", AppointmentMessage.from_domain(good[1]).model_dump_json()),
        sqs_record("m-4", AppointmentMessage.from_domain(numbered(3, Country.CL)).model_dump_json()),
    ]

    result = processor.lambda_handler({"Records": records}, FakeContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-4"}]}
    assert sorted(processor.uow.rows) == sorted(a.appointment_id for a in good)
    assert [e.appointment_id for e in processor.events.events] == [a.appointment_id for a in good]


def test_a_processed_line_carries_its_request_and_appointment_not_what_the_log_group_says(
    processor: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    booked = numbered(7)
    record = sqs_record("m-7", AppointmentMessage.from_domain(booked).model_dump_json())
    written = io.StringIO()  # the stream the function's lines go to (stdout, on the engine)
    monkeypatch.setattr(processor.logger.registered_handler, "stream", written)

    processor.lambda_handler({"Records": [record]}, FakeContext())

    lines = [json.loads(line) for line in written.getvalue().splitlines()]
    [processed] = [line for line in lines if line["message"] == "appointment processed"]
    assert processed["appointment_id"] == booked.appointment_id
    assert processed["function_request_id"] == FakeContext.aws_request_id
    assert "cold_start" in processed
    for line in lines:
        assert not set(line) & {"function_name", "function_arn", "function_memory_size"}, line


def test_the_processor_reports_a_record_whose_event_was_not_published_and_its_retry_announces_it(
    processor: ModuleType,
) -> None:
    processor.events.fail_times = 1
    first, second = numbered(1), numbered(2)
    records = [
        sqs_record("m-1", AppointmentMessage.from_domain(first).model_dump_json()),
        sqs_record("m-2", AppointmentMessage.from_domain(second).model_dump_json()),
    ]

    result = processor.lambda_handler({"Records": records}, FakeContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert sorted(processor.uow.rows) == [first.appointment_id, second.appointment_id]  # committed first
    assert [e.appointment_id for e in processor.events.events] == [second.appointment_id]

    retried = processor.lambda_handler({"Records": records[:1]}, FakeContext())

    assert retried == {"batchItemFailures": []}
    assert [e.appointment_id for e in processor.events.events] == [
        second.appointment_id,
        first.appointment_id,
    ]
    assert processor.uow.commits == 2


def test_the_processor_reports_a_record_of_an_unknown_major_version_and_takes_a_newer_minor(
    processor: ModuleType,
) -> None:
    older, newer_minor, newer_major = numbered(1), numbered(2), numbered(3)
    body = AppointmentMessage.from_domain
    records = [
        sqs_record("m-1", body(older).model_dump_json(exclude={"version"})),  # from before versions
        sqs_record(
            "m-2", json.dumps(body(newer_minor).model_dump(mode="json") | {"version": "1.4", "new": 1})
        ),
        sqs_record("m-3", json.dumps(body(newer_major).model_dump(mode="json") | {"version": "2.0"})),
    ]

    result = processor.lambda_handler({"Records": records}, FakeContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-3"}]}
    assert sorted(processor.uow.rows) == [older.appointment_id, newer_minor.appointment_id]


@pytest.fixture
def callback(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = entry_point("callback", monkeypatch, TABLE_NAME="appointments")
    monkeypatch.setattr(module, "repository", InMemoryAppointmentRepository())
    return module


def settled_body(settled: Appointment, detail_type: str = "AppointmentScheduled") -> str:
    event = settled.outcome_event(SlotOutcome.SCHEDULED, T0)
    detail = AppointmentSettledDetail.from_domain(event).model_dump(mode="json")
    return json.dumps({"source": "rimac.appointments", "detail-type": detail_type, "detail": detail})


def test_the_callback_reports_exactly_the_unknown_and_the_malformed_records(callback: ModuleType) -> None:
    known, unknown = numbered(1), numbered(2)
    callback.repository.add(known)
    records = [
        sqs_record("c-1", settled_body(known)),
        sqs_record("c-2", settled_body(unknown)),
        sqs_record("c-3", '{"source": "elsewhere"}'),
        sqs_record("c-4", settled_body(known)),  # the same event again: settled already, not a failure
    ]

    result = callback.lambda_handler({"Records": records}, FakeContext())

    assert result == {"batchItemFailures": [{"itemIdentifier": "c-2"}, {"itemIdentifier": "c-3"}]}
    [stored] = callback.repository.list_for_insured(known.insured_id).items
    assert stored.status is AppointmentStatus.COMPLETED


def test_an_empty_batch_the_warm_up_sends_touches_nothing(
    processor: ModuleType, callback: ModuleType
) -> None:
    from bootstrap.stack.warm import EMPTY_BATCH

    assert processor.lambda_handler(EMPTY_BATCH, FakeContext()) == {"batchItemFailures": []}
    assert callback.lambda_handler(EMPTY_BATCH, FakeContext()) == {"batchItemFailures": []}
    assert not processor.uow.rows
    assert not processor.events.events


@pytest.fixture
def reconciler(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = entry_point(
        "reconciler", monkeypatch, TABLE_NAME="appointments", SWEEP_TABLE_NAME="sweep", TOPIC_ARN="arn:topic"
    )
    monkeypatch.setattr(module, "repository", InMemoryAppointmentRepository())
    monkeypatch.setattr(module, "publisher", InMemoryRequestPublisher())
    return module


@dataclass
class ScheduledContext(FakeContext):
    remaining_ms: int = 60_000  # the schedule's invocation has the function's whole timeout

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_reconciler_stops_when_the_invocation_has_little_time_left(
    reconciler: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = [numbered(n) for n in range(150)]
    for item in waiting:
        reconciler.repository.add(item)
    # The run's clock: started at 0 with 60 s; PE's first page is read at 0 and CL's at 20 s, then
    # at 50 s less than the reserve is left before the deadline
    moments = iter([0.0, 0.0, 20.0, 50.0])
    monkeypatch.setattr(reconciler, "deadline", Deadline(clock=lambda: next(moments)))

    result = reconciler.lambda_handler({}, ScheduledContext())

    assert result == {
        "handedOver": [a.appointment_id for a in waiting[:100]],
        "stillWaiting": [],
        "walked": False,
    }
    monkeypatch.setattr(reconciler, "deadline", Deadline())
    again = reconciler.lambda_handler({}, ScheduledContext())
    assert (again["handedOver"], again["walked"]) == ([a.appointment_id for a in waiting[100:]], True)


def test_a_reconciler_run_with_less_time_than_its_reserve_reads_nothing(reconciler: ModuleType) -> None:
    reconciler.repository.add(numbered(1))

    result = reconciler.lambda_handler({}, ScheduledContext(remaining_ms=int(RESERVED_SECONDS * 1000)))

    assert result == {"handedOver": [], "stillWaiting": [], "walked": False}
    assert reconciler.repository.outbox_pages_read == []
