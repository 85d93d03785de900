"""The benchmark script still runs (tiny sizes); its numbers live in docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parents[1] / "benchmarks"
SCRIPT = BENCHMARKS / "time_distributed.py"


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="memory probe needs Linux")
def test_time_distributed_benchmark_smoke(tmp_path: Path) -> None:
    png = tmp_path / "speed.png"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--rounds", "1", "--png", str(png)],
        capture_output=True, text=True, timeout=300, check=True,
    )
    for title in ("forward+backward", "masked vs unmasked", "Peak memory"):
        assert title in result.stdout
    assert "| timedist merge |" in result.stdout
    assert "| chunk_size=16 + checkpoint |" in result.stdout
    assert png.stat().st_size > 0


@pytest.mark.parametrize(("script", "expected"), [
    ("recurrent.py", ["| timedist.LSTM, lengths |", "| timedist.Bidirectional(LSTM), lengths |"]),
    ("conv_lstm.py", ["| timedist (automatic) |", "| plain per-step cat([x, h]) |"]),
    ("training.py", ["| timedist CNNLSTM, plain loop |", "| Keras 3 (torch backend) |"]),
])
def test_benchmark_smoke(script: str, expected: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--rounds", "1"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    if script != "training.py":
        assert result.stdout.count("forward+backward") >= 3
    for line in expected:
        assert line in result.stdout
