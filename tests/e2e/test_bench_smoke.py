"""`make bench` in its smoke size: both chains carry every appointment through; no timing is judged."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bootstrap.config import ROOT
from bootstrap.dev import kit
from tests.support.stages import UNDER_LOAD

# A burst through both chains: never beside the other bursts (chaos, the engine restart).
pytestmark = pytest.mark.xdist_group(UNDER_LOAD)


def test_the_smoke_benchmark_completes_every_appointment_of_both_chains(
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
    assert set(report["chains"]) == {"ours", "no-op"}
    for chain, phases in report["chains"].items():
        assert set(phases) == {"warm_up", "low_load", "sustained"}, chain  # every phase of `make bench`
        for name, phase in phases.items():
            counts = phase["counts"]
            assert counts["posted"] == counts["completed"] == phase["count"], (chain, name, counts)
            assert counts["dead_lettered"] == 0, (chain, name, counts)
    sustained = report["chains"]["ours"]["sustained"]
    assert sustained["count"] == 50
    assert sustained["counts"]["mysql_rows"] == 50
