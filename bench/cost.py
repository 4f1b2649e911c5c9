"""`make cost`: the monthly AWS bill of N appointments, per chain and service, from what the
benchmark counted.

Usage: .venv/bin/python -m bench.cost [--appointments 1000000] [--results bench/results/flow-latest.json]

Each line is what one appointment cost in the benchmark's counted phase (bench/calls.py: the
requests the engine recorded, the DynamoDB units of the items as written, each function's
invocations and measured durations at the template's memory sizes, the log bytes its functions
wrote), times N, times the price in bench/prices/us-east-1.json (its region, date and source
pages there). What one appointment does not drive is apart: RDS, a fixed line; the reconciler's
scheduled runs (a query per country a minute when nothing waits, and its sweep mark's write);
its sweep's read of each appointment is a line of its own. Lambda durations are the
engine's on this machine, which runs slower than Lambda: the GB-seconds are an upper bound.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bootstrap import names

PRICES = Path(__file__).resolve().parent / "prices" / "us-east-1.json"
LATEST = Path(__file__).resolve().parent / "results" / "flow-latest.json"
HOURS_A_MONTH = 730
RDS_STORAGE_GB = 20
ITEM_OVERHEAD_BYTES = 100  # DynamoDB's per-item storage overhead
HOT = "hot path"
RECONCILER = "reconciler"


def prices() -> dict[str, Any]:
    return dict(json.loads(PRICES.read_text()))


def _usd(table: dict[str, Any], name: str, quantity: float) -> float:
    price = table["prices"][name]
    return float(quantity) * float(price["usd"]) / float(price["per"])


def _sum(values: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in values.items() if k.startswith(prefix))


def bill(figures: dict[str, Any], appointments: int, api_flavour: str = "http") -> dict[str, float]:
    """Service -> USD for `appointments`, from one chain's per-appointment figures."""
    table = prices()
    sqs = {**figures["requests"][HOT], **figures["requests"].get("pollers", {})}
    cached = figures["requests"].get("cached reads", {})
    published = figures.get("published", {}).get(HOT, {})
    functions = {k: v for k, v in figures["lambda"].items() if k != names.RECONCILER_FUNCTION_NAME}
    invocations = sum(f["invocations"] for f in functions.values())
    api_requests = functions.get(names.HTTP_FUNCTION_NAME, {}).get("invocations", 0.0)
    gb_s = sum(f["gb_s"] for f in functions.values())
    item = (figures.get("item_bytes_median") or 0) + ITEM_OVERHEAD_BYTES
    n = appointments
    return {
        "API Gateway": _usd(table, f"api_gateway_{api_flavour}_request", api_requests * n),
        "Lambda requests": _usd(table, "lambda_request", invocations * n),
        "Lambda GB-seconds": _usd(table, "lambda_gb_second", gb_s * n),
        "DynamoDB writes": _usd(
            table, "dynamodb_write_unit", figures["dynamodb_write_units"].get(HOT, 0.0) * n
        ),
        "DynamoDB reads": _usd(table, "dynamodb_read_unit", figures["dynamodb_read_units"].get(HOT, 0.0) * n),
        # the reconciler's sweep: each appointment's item read once, in a batch
        "DynamoDB reads (the reconciler's sweep)": _usd(
            table, "dynamodb_read_unit", figures["dynamodb_read_units"].get(RECONCILER, 0.0) * n
        ),
        "DynamoDB storage (a month's items)": _usd(table, "dynamodb_storage_gb_month", item * n / 1e9),
        "SNS": _usd(table, "sns_publish", published.get("SNS", 0.0) * n),
        "SQS": _usd(table, "sqs_request", _sum(sqs, "SQS ") * n),
        "EventBridge": _usd(table, "eventbridge_event", published.get("EventBridge", 0.0) * n),
        "CloudWatch Logs": _usd(table, "cloudwatch_logs_ingested_gb", figures["log_bytes"] * n / 1e9),
        # the template's default on AWS: one trace per request, its header carried by SNS, SQS and
        # EventBridge to the next hop's function, all of them sampled at this rate (about 0.4 a second)
        "X-Ray (Tracing: Active)": _usd(table, "xray_trace_recorded", api_requests * n),
        "SSM and KMS (cached reads)": _usd(table, "kms_request", _sum(cached, "SSM ") * n),
    }


def fixed_monthly() -> dict[str, float]:
    """What a month costs whatever the appointments: the smallest RDS for MySQL."""
    table = prices()
    return {
        "RDS (db.t4g.micro, 20 GB)": _usd(table, "rds_db_t4g_micro_hour", HOURS_A_MONTH)
        + _usd(table, "rds_gp3_storage_gb_month", RDS_STORAGE_GB)
    }


def per_million(figures: dict[str, Any]) -> dict[str, Any]:
    """One chain's bill for a million appointments: each service and the total (no fixed line)."""
    lines = bill(figures, 1_000_000)
    return {"services": {k: round(v, 4) for k, v in lines.items()}, "total": round(sum(lines.values()), 2)}


def table(chains: dict[str, dict[str, Any]], appointments: int) -> str:
    """Markdown: a column per chain, a line per service, then the fixed line and the totals."""
    bills = {name: bill(figures, appointments) for name, figures in chains.items() if figures}
    if not bills:
        return "no counted figures: run `make bench` first"
    names_ = list(bills)
    lines = [
        f"AWS bill for {appointments:,} appointments a month, {prices()['region']}, prices of "
        f"{prices()['taken']} (bench/prices/us-east-1.json), USD:",
        "",
        "| service | " + " | ".join(names_) + " |",
        "|---|" + "---:|" * len(names_),
    ]
    for service in next(iter(bills.values())):
        lines.append(f"| {service} | " + " | ".join(f"{bills[c][service]:.2f}" for c in names_) + " |")
    totals = {c: sum(b.values()) for c, b in bills.items()}
    lines.append("| **per appointment, all** | " + " | ".join(f"**{totals[c]:.2f}**" for c in names_) + " |")
    for service, usd in fixed_monthly().items():  # the no-op chain has no database
        lines.append(
            f"| {service}, fixed | "
            + " | ".join("-" if c == "no-op" else f"{usd:.2f}" for c in names_)
            + " |"
        )
    if "ours" in totals and "plain" in totals and totals["plain"]:
        lines += ["", f"ours / plain, per appointment: {totals['ours'] / totals['plain']:.2f}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--results", type=Path, default=LATEST)
    args = parser.parse_args(argv)
    if not args.results.exists():
        print(f"error: {args.results} is missing: run `make bench` first", file=sys.stderr)
        return 1
    document = json.loads(args.results.read_text())
    counted = document.get("requests_per_appointment")
    if not counted:
        print(f"error: {args.results} holds no counted phase: run `make bench` again", file=sys.stderr)
        return 1
    print(f"From {args.results} (run {document['when']}, {document['settings']}):\n")
    print(table(counted, args.appointments))
    return 0


if __name__ == "__main__":
    sys.exit(main())
