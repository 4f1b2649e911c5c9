"""The console's figures computed from what it reads: the time an appointment's ULID holds, and
the newest datapoint of each queue's age."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bootstrap.config import KitConfig, KitError
from bootstrap.console import server
from bootstrap.console.overview import queue_ages
from bootstrap.console.table import TableScan, ulid_time


def test_a_ulids_time_is_its_first_ten_characters_in_milliseconds() -> None:
    # the example of the ULID specification: 01ARZ3NDEK is 1469922850259 ms
    assert ulid_time("01ARZ3NDEKTSV4RRFFQ69G5FAV") == 1469922850.259


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
