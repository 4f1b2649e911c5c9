"""The benchmark's report: the targets it checks, a table to read, a JSON file to keep."""

from __future__ import annotations

import json
import time
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


def _ratio(chains: dict[str, Any], phase: str) -> float | None:
    ours, base = _p(chains, "ours", phase, "p50"), _p(chains, "no-op", phase, "p50")
    return round(ours / base, 2) if ours is not None and base else None


def _throughput_ratio(chains: dict[str, Any], phase: str = "sustained") -> float | None:
    ours = chains.get("ours", {}).get(phase, {}).get("throughput")
    base = chains.get("no-op", {}).get(phase, {}).get("throughput")
    return round(ours / base, 2) if ours is not None and base else None


def verdicts(chains: dict[str, Any], cold_starts: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The targets, each our cost next to the engine's floor (the no-op chain, same run), except
    the first burst, which is what a user waits for on the first requests after `make up`."""
    rows = [
        Target("sustained throughput, ours / no-op", 0.9, "x", at_most=False).verdict(
            _throughput_ratio(chains)
        ),
        Target("POST-to-completed p50 at low load, ours / no-op", 1.2, "x").verdict(
            _ratio(chains, "low_load")
        ),
        Target("first burst after `make up` (the warm-up), POST-to-completed p95", 2000, "ms").verdict(
            _p(chains, "ours", "warm_up", "p95")
        ),
    ]
    for name, figures in (cold_starts or {}).get("functions", {}).items():
        ratio = figures["import_ms_median"] / figures["noop_import_ms_median"]
        rows.append(Target(f"cold start ours / no-op, {name}", 1.5, "x").verdict(round(ratio, 2)))
        rows.append(Target(f"zip, {name}", 10, "MB").verdict(figures["zip_mb"]))
    return rows


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
    cold = doc.get("cold_starts")
    if cold:
        lines += [
            "",
            "| function | cold start ms (ours) | same with no-op code | zip MB |",
            "|---|---:|---:|---:|",
        ]
        for name, f in cold["functions"].items():
            lines.append(
                f"| {name} | {f['import_ms_median']:.0f} | {f['noop_import_ms_median']:.0f} | {f['zip_mb']} |"
            )
    if doc.get("targets"):
        lines += ["", *target_table(doc["targets"])]
    return "\n".join(lines)


def target_table(targets: list[dict[str, Any]]) -> list[str]:
    """The verdicts as Markdown rows: each target, its limit, what was measured, met or missed."""
    lines = ["| target | limit | measured | met |", "|---|---|---:|---|"]
    for row in targets:
        met = {True: "yes", False: "**no**", None: "not measured"}[row["met"]]
        lines.append(f"| {row['target']} | {row['limit']} | {row['measured']} | {met} |")
    return lines
