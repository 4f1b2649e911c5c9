"""The console's figures computed from what it reads: the time an appointment's ULID holds, and
the newest datapoint of each queue's age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from appointments.domain import Country
from bootstrap import names
from bootstrap.config import KitConfig, KitError, StackConfig
from bootstrap.console import server
from bootstrap.console.journey import waterfall
from bootstrap.console.overview import queue_ages
from bootstrap.console.table import TableScan, is_ulid, ulid_time
from bootstrap.ops import trace


def test_a_ulids_time_is_its_first_ten_characters_in_milliseconds() -> None:
    # the example of the ULID specification: 01ARZ3NDEK is 1469922850259 ms
    assert ulid_time("01ARZ3NDEKTSV4RRFFQ69G5FAV") == 1469922850.259


def test_an_id_that_is_not_a_ulid_is_told_apart() -> None:
    assert is_ulid("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert not is_ulid("0-not-a-ulid")
    assert not is_ulid("")


def test_the_oldest_pending_appointment_waited_since_its_ulids_time() -> None:
    scan = TableScan(
        statuses={},  # type: ignore[arg-type]
        newest=[],
        insured_of={},
        complete=True,
        at=datetime.fromtimestamp(1469922850.259 + 75, UTC),
        seconds=0.1,
        oldest_pending="01ARZ3NDEKTSV4RRFFQ69G5FAV",
    )
    assert scan.oldest_pending_seconds == 75.0
    assert TableScan({}, [], {}, True, scan.at, 0.1).oldest_pending_seconds is None  # type: ignore[arg-type]


class Answering:
    """A CloudWatch client answering GetMetricData with the results given (and keeping the ask)."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self.results, self.asked = results, {}

    def get_metric_data(self, **asked: Any) -> dict[str, Any]:
        self.asked = asked
        return {"MetricDataResults": self.results}


def test_each_queues_age_is_its_newest_datapoint_and_none_without_one() -> None:
    older, newer = datetime(2026, 12, 3, 10, 0, tzinfo=UTC), datetime(2026, 12, 3, 10, 1, tzinfo=UTC)
    cloudwatch = Answering(
        [
            {"Id": "q0", "Timestamps": [older, newer], "Values": [300.0, 12.0]},
            {"Id": "q1", "Timestamps": [], "Values": []},
        ]
    )

    assert queue_ages(cloudwatch, ["pe-queue", "cl-queue"]) == {"pe-queue": 12.0, "cl-queue": None}
    [first, second] = cloudwatch.asked["MetricDataQueries"]
    assert first["MetricStat"]["Metric"] == {
        "Namespace": "AWS/SQS",
        "MetricName": "ApproximateAgeOfOldestMessage",
        "Dimensions": [{"Name": "QueueName", "Value": "pe-queue"}],
    }
    assert second["MetricStat"]["Metric"]["Dimensions"][0]["Value"] == "cl-queue"


@pytest.mark.parametrize("wrong", [0.0, -1.0])
def test_a_scan_interval_that_is_not_above_zero_is_refused_before_anything_is_read(wrong: float) -> None:
    with pytest.raises(KitError, match="--scan-seconds"):
        server.serve(KitConfig(), 4580, actions_allowed=False, scan_seconds=wrong)


class Logs:
    """A CloudWatch Logs client holding one REPORT line per stream: (its timestamp in ms, request
    id, duration in ms), as the engine stamps it once it has read the invocation's output."""

    def __init__(self, reports: dict[str, tuple[int, str, int]]) -> None:
        self.reports = reports

    def get_log_events(self, **asked: Any) -> dict[str, Any]:  # boto3's names: logStreamName, ...
        at, request_id, duration = self.reports[asked["logStreamName"]]
        return {
            "events": [
                {"timestamp": at, "message": f"REPORT RequestId: {request_id}\tDuration: {duration} ms"}
            ]
        }


class Clients:
    def __init__(self, logs: Logs) -> None:
        self.logs, self.stage, self.config = logs, "local", StackConfig(stage="local")

    def client(self, service: str) -> Logs:
        assert service == "logs"
        return self.logs


def test_a_bar_whose_report_line_came_late_ends_at_the_line_its_function_wrote() -> None:
    accepted = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    t0 = int(accepted.timestamp() * 1000)

    def hop(ms: int, function: str, what: str) -> trace.Hop:
        group = names.log_group(f"rimac-appointments-local-{function}")
        return trace.Hop(accepted + timedelta(milliseconds=ms), what, group, function, request_id=function)

    journey = trace.Journey(
        {"appointmentId": "A"},
        Country.PE,
        [hop(10, "http", "accepted"), hop(100, "processor-pe", "processed"), hop(200, "callback", "settled")],
        accepted,
        None,
    )
    # the processor's REPORT stamped 300 ms after its line: dated back, it would begin after it
    logs = Logs(
        {
            "http": (t0 + 12, "http", 10),
            "processor-pe": (t0 + 400, "processor-pe", 30),
            "callback": (t0 + 205, "callback", 5),
        }
    )
    outputs = {
        names.queue_output("PE"): "http://q/rimac-appointments-local-pe",
        names.CALLBACK_QUEUE_URL: "http://q/cb",
    }

    drawn = waterfall(Clients(logs), outputs, journey)  # type: ignore[arg-type]

    assert [(span.kind, span.lane) for span in drawn.spans] == [
        ("function", "http"),
        ("queue", "rimac-appointments-local-pe"),
        ("function", "processor-pe"),
        ("queue", "cb"),
        ("function", "callback"),
    ]
    processor = next(span for span in drawn.spans if span.lane == "processor-pe")
    assert (processor.start, processor.end) == (70.0, 100.0)
    callback = next(span for span in drawn.spans if span.lane == "callback")
    assert (callback.start, callback.end) == (200.0, 205.0)  # on time: as its REPORT line says


def test_a_processor_line_logged_before_the_http_functions_still_follows_it_through_the_queue() -> None:
    accepted = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    t0 = int(accepted.timestamp() * 1000)
    hops = [
        trace.Hop(
            accepted + timedelta(milliseconds=ms),
            what,
            names.log_group(f"rimac-appointments-local-{f}"),
            f,
            request_id=f,
        )
        for ms, f, what in (
            (90, "http", "accepted"),
            (60, "processor-pe", "processed"),
            (150, "callback", "settled"),
        )
    ]
    journey = trace.Journey(
        {"appointmentId": "A"}, Country.PE, sorted(hops, key=lambda h: h.at), accepted, None
    )
    logs = Logs(
        {
            "http": (t0 + 92, "http", 80),
            "processor-pe": (t0 + 62, "processor-pe", 20),
            "callback": (t0 + 152, "callback", 5),
        }
    )
    outputs = {names.queue_output("PE"): "http://q/pe", names.CALLBACK_QUEUE_URL: "http://q/cb"}

    drawn = waterfall(Clients(logs), outputs, journey)  # type: ignore[arg-type]

    assert [(span.kind, span.lane) for span in drawn.spans if span.kind != "point"] == [
        ("function", "http"),
        ("queue", "pe"),
        ("function", "processor-pe"),
        ("queue", "cb"),
        ("function", "callback"),
    ]
    waiting = next(span for span in drawn.spans if span.lane == "pe")
    assert waiting.duration == 0  # the processor began before the HTTP function said it handed over
