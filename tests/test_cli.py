"""The `timedist` command: `demo` prints verified shapes; `--version`; `python -m timedist`."""

from __future__ import annotations

import subprocess
import sys

import pytest

import timedist
from timedist.cli import main


def test_demo_prints_the_verified_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "(5, 3, 3, 256, 256) -> (5, 3, 16, 254, 254)" in out
    assert "(4, 12, 8) -> (4, 12, 10)" in out and "params=    90" in out
    assert "params=   896" in out
    assert "folded input shares the video's storage: True" in out
    assert "DIFFERENT" not in out and out.rstrip().endswith("all checks passed")


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "timedist", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"timedist {timedist.__version__}"


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out
