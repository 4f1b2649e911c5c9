"""The benchmark's request counting and its bill, on records written here (no engine)."""

from __future__ import annotations

import pytest

from bench import calls, cost
from bootstrap import names


def test_an_items_size_is_its_attribute_names_and_values_in_bytes() -> None:
    item = {"insuredId": {"S": "PE001"}, "scheduleId": {"N": "12345"}, "outbox": {"S": "PE"}}

    # 9 + 5, 10 + (3 digits-pairs + 1), 6 + 2
    assert calls.item_size(item) == 14 + 14 + 8


def chain_of_one_function() -> calls.ChainResources:
    return calls.ChainResources(
        tables=frozenset({"appointments", "sweep"}),
        table="appointments",
        sweep_table="sweep",
        topic="arn:topic",
        bus="bus",
        parameter_prefixes=("/rimac/db",),
        functions={"callback-fn": names.CALLBACK_FUNCTION_NAME, "pe-fn": "PeProcessorFunctionName"},
        memory_mb={"callback-fn": 256, "pe-fn": 256},
    )


def test_the_pollers_batches_are_read_from_the_engines_log_lines_of_the_chains_functions() -> None:
    log = "\n".join(
        [
            "2026-12-03 INFO [lambda] ESM: Lambda pe-fn processed 3 SQS messages from pe-queue",
            "2026-12-03 INFO [lambda] ESM: Lambda pe-fn processed 2 SQS messages from pe-queue (2 partial failures)",
            "2026-12-03 WARNING [lambda] ESM: Lambda pe-fn failed processing SQS batch from pe-queue (errorType=X)",
            "2026-12-03 INFO [lambda] ESM: Lambda other-chains-fn processed 5 SQS messages from q",
        ]
    )
    counted = calls.Count(appointments=5)

    calls._sqs_from_engine_log(counted, log, chain_of_one_function())

    assert counted.requests[calls.POLLERS] == {"SQS ReceiveMessage": 3, "SQS DeleteMessageBatch": 1}
    assert counted.requests[calls.HOT] == {"SQS SendMessage (SNS and EventBridge deliveries)": 5}


def test_a_write_to_an_item_in_the_sparse_outbox_index_costs_the_index_a_unit_too() -> None:
    counted, marked, sizes = calls.Count(appointments=1), {}, {}
    key = {"insuredId": {"S": "PE001"}, "appointmentId": {"S": "01A"}}
    marked_item = key | {"status": {"S": "pending"}, "outbox": {"S": "PE"}}

    calls._dynamodb_units(counted, calls.HOT, "PutItem", {"Item": marked_item}, marked, sizes)
    calls._dynamodb_units(
        counted,
        calls.HOT,
        "UpdateItem",
        {
            "Key": key,
            "UpdateExpression": "SET #status = :status REMOVE #outbox",
            "ExpressionAttributeNames": {"#status": "status", "#outbox": "outbox"},
        },
        marked,
        sizes,
    )
    calls._dynamodb_units(
        counted, calls.HOT, "UpdateItem", {"Key": key, "UpdateExpression": "SET x = :x"}, marked, sizes
    )

    # the put and its index copy, the settling update and the index copy's removal, then a plain update
    assert counted.write_units[calls.HOT] == 5
    assert marked == {}


def test_the_hot_path_writes_the_created_index_once_and_the_sweeps_outbox_write_costs_it_units() -> None:
    counted, marked, sizes = calls.Count(appointments=1), {}, {}
    key = {"insuredId": {"S": "PE001"}, "appointmentId": {"S": "01A"}}
    new = key | {"status": {"S": "pending"}, "createdIn": {"S": "PE"}, "createdAt": {"S": "2026"}}
    settling = {
        "Key": key,
        "UpdateExpression": "SET #status = :status REMOVE #outbox",
        "ExpressionAttributeNames": {"#status": "status", "#outbox": "outbox"},
    }

    calls._dynamodb_units(counted, calls.HOT, "PutItem", {"Item": new}, marked, sizes)
    calls._dynamodb_units(counted, calls.HOT, "UpdateItem", settling, marked, sizes)

    # the put and its created-index entry, then the settling update alone (no index changes)
    assert counted.write_units[calls.HOT] == 3

    into_outbox = {
        "Key": key,
        "UpdateExpression": "SET #outbox = :country, #due = :due ADD #count :one",
        "ExpressionAttributeNames": {"#outbox": "outbox", "#status": "status"},
    }
    calls._dynamodb_units(counted, calls.RECONCILER, "UpdateItem", into_outbox, marked, sizes)
    calls._dynamodb_units(counted, calls.HOT, "UpdateItem", settling, marked, sizes)
    batch = {
        "RequestItems": {"t": {"Keys": [key, {"insuredId": {"S": "CL999"}, "appointmentId": {"S": "x"}}]}}
    }
    calls._dynamodb_units(counted, calls.RECONCILER, "BatchGetItem", batch, marked, sizes, marker="PE0")

    # one the sweep found pending: its write and the outbox index's copy; settled, the copy removed
    assert counted.write_units[calls.RECONCILER] == 2
    assert counted.write_units[calls.HOT] == 3 + 2
    assert counted.read_units[calls.RECONCILER] == 0.5  # the phase's own key, not the other
    assert marked == {}


FIGURES = {
    "requests": {
        "hot path": {"DynamoDB PutItem": 1.0, "SQS SendMessage (SNS and EventBridge deliveries)": 2.0},
        "pollers": {"SQS ReceiveMessage": 2.0, "SQS DeleteMessageBatch": 2.0},
        "cached reads": {},
        "reconciler": {"DynamoDB Query": 0.02},
    },
    "published": {"hot path": {"SNS": 1.0, "EventBridge": 1.0}},
    "dynamodb_write_units": {"hot path": 4.0},
    "dynamodb_read_units": {},
    "item_bytes_median": 250,
    "lambda": {
        names.HTTP_FUNCTION_NAME: {"invocations": 1.0, "mean_ms": 20.0, "gb_s": 0.005},
        names.CALLBACK_FUNCTION_NAME: {"invocations": 0.5, "mean_ms": 30.0, "gb_s": 0.004},
        names.RECONCILER_FUNCTION_NAME: {"invocations": 0.01, "mean_ms": 100.0, "gb_s": 0.1},
    },
    "log_bytes": 2000.0,
}


def test_a_million_appointments_are_priced_per_service_from_what_one_cost() -> None:
    bill = cost.bill(FIGURES, 1_000_000)

    assert bill["API Gateway"] == pytest.approx(1.0)  # one HTTP function invocation each, $1 a million
    assert bill["Lambda requests"] == pytest.approx(0.30)  # the reconciler's run is not an appointment's
    assert bill["Lambda GB-seconds"] == pytest.approx(9000 * 0.0000166667)
    assert bill["DynamoDB writes"] == pytest.approx(2.50)
    assert bill["SQS"] == pytest.approx(6 * 0.40)  # the deliveries and the pollers' requests
    assert bill["SNS"] == pytest.approx(0.50)
    assert bill["EventBridge"] == pytest.approx(1.0)
    assert bill["CloudWatch Logs"] == pytest.approx(1.0)  # 2 GB at $0.50
    assert bill["DynamoDB storage (a month's items)"] == pytest.approx(0.35 * 0.25)


def test_every_price_names_its_source_page_and_the_file_its_region_and_date() -> None:
    table = cost.prices()

    assert (table["region"], len(table["taken"])) == ("us-east-1", 10)
    assert all(p["source"].startswith("https://aws.amazon.com/") for p in table["prices"].values())
