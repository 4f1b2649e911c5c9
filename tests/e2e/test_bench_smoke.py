"""`make bench` in its smoke size: the three chains carry every appointment through, and the
counted phase counts each chain's AWS requests; no timing is judged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.flow import SMOKE_COUNT
from bootstrap.config import ROOT
from bootstrap.dev import kit
from tests.support.stages import UNDER_LOAD

# A burst through the chains: never beside the other bursts (chaos, the engine restart).
pytestmark = pytest.mark.xdist_group(UNDER_LOAD)


def test_the_smoke_benchmark_completes_every_appointment_of_the_three_chains_and_counts_their_requests(
    stack: kit.Stack, tmp_path: Path
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bench.flow", "--smoke", "--results-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    print(run.stdout, run.stderr[-4000:])

    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads((tmp_path / "flow-latest.json").read_text())
    assert report["failures"] == []
    assert set(report["chains"]) == {"ours", "plain", "no-op"}
    for chain, phases in report["chains"].items():
        assert set(phases) == {"warm_up", "low_load", "sustained", "counted"}, (
            chain
        )  # every phase of `make bench`
        for name, phase in phases.items():
            counts = phase["counts"]
            assert counts["posted"] == counts["completed"] == phase["count"], (chain, name, counts)
            assert counts["dead_lettered"] == 0, (chain, name, counts)
    for chain in ("ours", "plain"):
        sustained = report["chains"][chain]["sustained"]
        assert sustained["count"] == SMOKE_COUNT
        assert sustained["counts"]["mysql_rows"] == SMOKE_COUNT, chain
    counted = report["requests_per_appointment"]
    hot = {chain: counted[chain]["requests"]["hot path"] for chain in counted}
    # the outbox costs no write of its own: ours writes the item and settles it, as the plain design
    assert {
        chain: (hot[chain]["DynamoDB PutItem"], hot[chain]["DynamoDB UpdateItem"])
        for chain in ("ours", "plain")
    } == {
        "ours": (1.0, 1.0),
        "plain": (1.0, 1.0),
    }
    assert hot["ours"]["SNS Publish"] == hot["plain"]["SNS Publish"] == 1.0
    assert all(report["cost_per_million"][chain]["total"] > 0 for chain in counted)
