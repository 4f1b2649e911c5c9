"""The benchmark's report: the targets it checks, a table to read, a JSON file to keep."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    """A figure the kit promises on a 2-core machine with the Docker-free engine."""

    name: str
    limit: float
    unit: str
    at_most: bool = True

    def verdict(self, value: float | None) -> dict[str, Any]:
        met = None if value is None else (value <= self.limit if self.at_most else value >= self.limit)
        bound = f"{'<=' if self.at_most else '>='} {self.limit:g} {self.unit}"
        return {"target": self.name, "limit": bound, "measured": value, "met": met}


def _p(chains: dict[str, Any], chain: str, phase: str, key: str) -> float | None:
    value = chains.get(chain, {}).get(phase, {}).get("completed_ms", {}).get(key)
    return None if value is None else float(value)


def _ratio(chains: dict[str, Any], phase: str, base: str = "plain") -> float | None:
    ours, other = _p(chains, "ours", phase, "p50"), _p(chains, base, phase, "p50")
    return round(ours / other, 2) if ours is not None and other else None


def _throughput_ratio(chains: dict[str, Any], base: str = "plain", phase: str = "sustained") -> float | None:
    ours = chains.get("ours", {}).get(phase, {}).get("throughput")
    other = chains.get(base, {}).get(phase, {}).get("throughput")
    return round(ours / other, 2) if ours is not None and other else None


def _of(values: dict[str, Any], chain: str, *path: str) -> float | None:
    found: Any = values.get(chain)
    for key in path:
        found = found.get(key) if isinstance(found, dict) else None
    return None if found is None else float(found)


def verdicts(
    chains: dict[str, Any],
    cold_starts: dict[str, Any] | None,
    per_appointment: dict[str, Any] | None = None,
    cost_per_million: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The targets, each ours next to the plain design's (the same run), except the first burst,
    which is what a user waits for on the first requests after `make up`."""
    per_appointment, cost_per_million = per_appointment or {}, cost_per_million or {}
    ours_requests = _of(per_appointment, "ours", "hot_path_requests")
    plain_requests = _of(per_appointment, "plain", "hot_path_requests")
    ours_cost, plain_cost = _of(cost_per_million, "ours", "total"), _of(cost_per_million, "plain", "total")
    rows = [
        Target("sustained throughput, ours / plain", 0.9, "x", at_most=False).verdict(
            _throughput_ratio(chains)
        ),
        Target("POST-to-completed p50 at low load, ours / plain", 1.2, "x").verdict(
            _ratio(chains, "low_load")
        ),
        Target("first burst after `make up` (the warm-up), POST-to-completed p95", 2000, "ms").verdict(
            _p(chains, "ours", "warm_up", "p95")
        ),
        Target("AWS requests per appointment on the hot path, ours - plain", 0, "").verdict(
            None
            if ours_requests is None or plain_requests is None
            else round(ours_requests - plain_requests, 2)
        ),
        Target("AWS cost per million appointments, ours / plain", 1.15, "x").verdict(
            round(ours_cost / plain_cost, 2) if ours_cost is not None and plain_cost else None
        ),
    ]
    for name, figures in (cold_starts or {}).get("functions", {}).items():
        ratio = figures["import_ms_median"] / figures["plain_import_ms_median"]
        rows.append(Target(f"cold start ours / plain, {name}", 1.3, "x").verdict(round(ratio, 2)))
        rows.append(Target(f"zip, {name}", 10, "MB").verdict(figures["zip_mb"]))
    return rows


def floor_ratios(chains: dict[str, Any]) -> str:
    """Ours and the plain design next to the engine's floor, the no-op chain: not targets."""
    parts = []
    for chain in ("ours", "plain"):
        throughput, p50 = _throughput_ratio_of(chains, chain), _ratio_of(chains, chain)
        parts.append(f"{chain} / no-op: sustained throughput {throughput}, low-load p50 {p50}")
    return "; ".join(parts)


def _throughput_ratio_of(chains: dict[str, Any], chain: str) -> float | None:
    mine = chains.get(chain, {}).get("sustained", {}).get("throughput")
    floor = chains.get("no-op", {}).get("sustained", {}).get("throughput")
    return round(mine / floor, 2) if mine is not None and floor else None


def _ratio_of(chains: dict[str, Any], chain: str) -> float | None:
    mine, floor = _p(chains, chain, "low_load", "p50"), _p(chains, "no-op", "low_load", "p50")
    return round(mine / floor, 2) if mine is not None and floor else None


def document(**parts: Any) -> dict[str, Any]:
    return {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())} | parts


def save_named(doc: dict[str, Any], folder: Path, kind: str) -> Path:
    """bench/results/<kind>-<time>.json, and <kind>-latest.json beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    path = folder / f"{kind}-{stamp}.json"
    text = json.dumps(doc, indent=2) + "\n"
    path.write_text(text)
    (folder / f"{kind}-latest.json").write_text(text)
    return path


def _ms(values: dict[str, float]) -> str:
    return " / ".join(f"{values.get(k, float('nan')):.0f}" for k in ("p50", "p95", "p99", "max"))


def table(doc: dict[str, Any]) -> str:
    """Markdown, so the README can hold it as printed."""
    m = doc["machine"]
    lines = [
        f"Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gib']} GiB, {m['os']}; "
        f"{m['engine']} on Python {m['engine_python']}; run {doc['when']}; "
        f"settings {json.dumps(doc['settings'])}",
        "",
        "| chain | phase | n | conc. | appt/s | POST ms p50/p95/p99/max "
        "| POST→completed ms p50/p95/p99/max | completed | MySQL rows | DLQ added |",
        "|---|---|---:|---:|---:|---|---|---:|---:|---:|",
    ]
    for chain, phases in doc["chains"].items():
        for phase, r in phases.items():
            c = r["counts"]
            lines.append(
                f"| {chain} | {phase.replace('_', ' ')} | {r['count']} | {r['concurrency']} "
                f"| {r['throughput']:.1f} | {_ms(r['post_ms'])} | {_ms(r['completed_ms'])} "
                f"| {c.get('completed')} | {c.get('mysql_rows', '-')} | {c.get('dead_lettered')} |"
            )
    mem = doc["memory"]
    lines += [
        "",
        f"Engine memory peak: {mem['engine_peak_mib']} MiB (server process), "
        f"{mem['engine_and_workers_peak_mib']} MiB with its function workers "
        f"({mem['processes_at_peak']} at the peak). Benchmark client CPU: {doc['client_cpu_s']} s.",
    ]
    if "no-op" in doc["chains"] and "plain" in doc["chains"]:
        lines += ["", f"Next to the engine's floor: {floor_ratios(doc['chains'])}."]
    lines += requests_table(doc.get("requests_per_appointment") or {})
    lines += cost_lines(doc.get("cost_per_million") or {})
    cold = doc.get("cold_starts")
    if cold:
        lines += [
            "",
            "| function | cold start ms (ours) | same with plain code | same with no-op code | zip MB |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, f in cold["functions"].items():
            lines.append(
                f"| {name} | {f['import_ms_median']:.0f} | {f['plain_import_ms_median']:.0f} "
                f"| {f['noop_import_ms_median']:.0f} | {f['zip_mb']} |"
            )
    if doc.get("targets"):
        lines += ["", *target_table(doc["targets"])]
    return "\n".join(lines)


def requests_table(per_appointment: dict[str, Any]) -> list[str]:
    """AWS requests per appointment, by part, service and operation, a column per chain."""
    if not per_appointment:
        return []
    chains = list(per_appointment)
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for chain, figures in per_appointment.items():
        for part, operations in figures["requests"].items():
            for operation, value in operations.items():
                rows.setdefault((part, operation), {})[chain] = value
    counted = ", ".join(f"{c} {per_appointment[c]['appointments']}" for c in chains)
    lines = [
        "",
        f"AWS requests per appointment, counted from the engine's records (appointments counted: {counted}):",
        "",
        "| part | request | " + " | ".join(chains) + " |",
        "|---|---|" + "---:|" * len(chains),
    ]
    for (part, operation), values in sorted(rows.items()):
        lines.append(
            f"| {part} | {operation} | " + " | ".join(f"{values.get(c, 0):.2f}" for c in chains) + " |"
        )
    lines.append(
        "| **hot path** | **all** | "
        + " | ".join(f"**{per_appointment[c]['hot_path_requests']:.2f}**" for c in chains)
        + " |"
    )
    extra: dict[str, Callable[[dict[str, Any]], float]] = {
        "DynamoDB write units (hot path)": lambda f: f["dynamodb_write_units"].get("hot path", 0),
        "item bytes as written (median)": lambda f: f.get("item_bytes_median") or 0,
        "log bytes (CloudWatch Logs' count)": lambda f: f["log_bytes"],
        "Lambda invocations": lambda f: sum(
            v["invocations"] for k, v in f["lambda"].items() if k != "ReconcilerFunctionName"
        ),
        "Lambda GB-seconds": lambda f: sum(
            v["gb_s"] for k, v in f["lambda"].items() if k != "ReconcilerFunctionName"
        ),
    }
    for label, read in extra.items():
        lines.append(f"| | {label} | " + " | ".join(f"{read(per_appointment[c]):.4g}" for c in chains) + " |")
    return lines


def cost_lines(cost_per_million: dict[str, Any]) -> list[str]:
    if not cost_per_million:
        return []
    chains = list(cost_per_million)
    services = list(next(iter(cost_per_million.values()))["services"])
    lines = [
        "",
        "AWS cost per million appointments, USD (bench/cost.py, prices in bench/prices/us-east-1.json; "
        "`make cost` for any count and the fixed RDS line):",
        "",
        "| service | " + " | ".join(chains) + " |",
        "|---|" + "---:|" * len(chains),
    ]
    for service in services:
        lines.append(
            f"| {service} | "
            + " | ".join(f"{cost_per_million[c]['services'][service]:.2f}" for c in chains)
            + " |"
        )
    lines.append(
        "| **total** | " + " | ".join(f"**{cost_per_million[c]['total']:.2f}**" for c in chains) + " |"
    )
    return lines


def target_table(targets: list[dict[str, Any]]) -> list[str]:
    """The verdicts as Markdown rows: each target, its limit, what was measured, met or missed."""
    lines = ["| target | limit | measured | met |", "|---|---|---:|---|"]
    for row in targets:
        met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
        lines.append(f"| {row['target']} | {row['limit']} | {row['measured']} | {met} |")
    return lines
