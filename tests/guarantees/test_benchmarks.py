"""The benchmark script still runs (tiny sizes); its numbers live in docs/benchmarks.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

BENCHMARKS = REPO / "benchmarks"
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
    ("export.py", ["| onnxruntime |", "| torch.compile (inductor) |", "| masked scan (eager) |"]),
    ("decoders.py", ["| timedist read_clip (PyAV, one reused scaler) |",
                     "| ClipDataset, DataLoader(num_workers=2) |"]),
    ("own_videos.py", ["| in memory (--data moving-digits) |", "| H.264 .mp4 32x32 |",
                       "| PNG folders 32x32 |", "| 80 clips, --cache |"]),
    ("tables.py", ["| 300 x 500, 17 digits |", "| 300 x 500, 6 decimals |"]),
])
def test_benchmark_smoke(script: str, expected: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick", "--rounds", "1"],
        capture_output=True, text=True, timeout=300, check=True,
    )
    if script in ("recurrent.py", "conv_lstm.py"):
        assert result.stdout.count("forward+backward") >= 3
    for line in expected:
        assert line in result.stdout


def test_own_data_benchmark_smoke() -> None:
    """The own-data benchmark runs on shipped data; aeon's peers when installed (bench extra)."""
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "own_data.py"), "--quick", "--seeds", "0"],
        capture_output=True, text=True, timeout=600, check=True,
    )
    assert "| basic-motions subset | 20/10, T=100 | " in result.stdout
    assert "| sunspots | 120/40, T=20 | " in result.stdout
    try:
        import aeon  # noqa: F401
    except ImportError:
        assert "aeon is not installed" in result.stderr
    else:
        assert "| timedist | MiniRocket | MultiRocket-Hydra | 1-NN DTW |" in result.stdout


def test_scale_benchmark_smoke(tmp_path: Path) -> None:
    """Each (method, N) in its own process, a table row and the plot (timedist only here)."""
    png = tmp_path / "scale.png"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "scale.py"), "--quick", "--methods", "timedist",
         "--png", str(png)], capture_output=True, text=True, timeout=600, check=True,
    )
    row = next(line for line in result.stdout.splitlines() if line.startswith("| 300 |"))
    accuracy = float(row.split("|")[5])
    assert 0.4 < accuracy <= 1.0  # four classes: well above chance on 300 series
    assert png.stat().st_size > 0


def test_convergence_benchmark_smoke(tmp_path: Path) -> None:
    """A recorded trajectory (one epoch row per epoch) and the rule's table from it."""
    record = tmp_path / "trajectories.jsonl"
    subprocess.run([sys.executable, str(BENCHMARKS / "convergence.py"), "--quick",
                    "--tasks", "basic-motions", "--record", str(record)],
                   capture_output=True, text=True, timeout=600, check=True)
    entry = json.loads(record.read_text())
    assert entry["task"] == "basic-motions" and len(entry["rows"]) == entry["epochs"]
    assert all(0.0 <= row["test"] <= 1.0 for row in entry["rows"])
    result = subprocess.run([sys.executable, str(BENCHMARKS / "convergence.py"), "--analyse",
                             str(record)], capture_output=True, text=True, timeout=120,
                            check=True)
    assert result.stdout.count("| basic-motions |") == 1
