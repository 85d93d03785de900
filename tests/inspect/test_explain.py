"""timedist explain: checked walk-throughs (golden text), JSON, PNG diagrams, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import assert_golden

from timedist.cli import main
from timedist.inspect import explain
from timedist.inspect.explain import _check

CLASSIC = {  # seq 3, batch 2, input 4, hidden 2: (output, h_n) shapes
    "1-layer": ([], [3, 2, 2], [1, 2, 2]),
    "2-layer": (["--num-layers", "2"], [3, 2, 2], [2, 2, 2]),
    "bidirectional": (["--bidirectional"], [3, 2, 4], [2, 2, 2]),
    "2-layer-bidirectional": (["--num-layers", "2", "--bidirectional"], [3, 2, 4], [4, 2, 2]),
}


@pytest.mark.parametrize("case", sorted(CLASSIC))
@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_classic_rnn_cases(kind: str, case: str, capsys: pytest.CaptureFixture[str]) -> None:
    flags, output, h_n = CLASSIC[case]
    assert main(["explain", kind, *flags, "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["output"] == output and facts["h_n"] == h_n
    assert facts["c_n"] == (h_n if kind == "lstm" else None)
    assert main(["explain", kind, *flags]) == 0
    text = capsys.readouterr().out
    assert "batch_first does not change it" in text
    assert_golden(f"explain_{kind}_{case}.txt", text)


def test_batch_first_and_projection_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "lstm", "--bidirectional", "--batch-first", "--proj-size", "1",
                 "--hidden-size", "3"]) == 0
    text = capsys.readouterr().out
    assert "input x               (B, T, F) = (2, 3, 4)" in text
    assert "output[:, -1, :1] == h_n[-2]" in text and "output[:, 0, 1:] == h_n[-1]" in text
    assert "weight_hr_l0 (1, 3)" in text and "c_n                   (L*D, B, hidden_size) = " \
        "(2, 2, 3)" in text


def test_second_layer_reads_both_directions() -> None:
    text = str(explain("gru", num_layers=2, bidirectional=True, hidden_size=5))
    assert "weight_ih_l1          (15, 10) = (3*5, 10): gates r, z, n, reads D*U=10: layer 0's " \
        "two directions, concatenated" in text


@pytest.mark.parametrize("argv", [["conv2d"], ["time-distributed", "--module", "conv2d"],
                                  ["time-distributed", "--module", "linear"]])
def test_conv_and_time_distributed_text(argv: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *argv]) == 0
    assert_golden("explain_" + "_".join(a.strip("-") for a in argv) + ".txt",
                  capsys.readouterr().out)


def test_conv2d_facts() -> None:
    facts = explain("conv2d").data
    assert facts["weight"] == [3, 2, 2, 2] and facts["output"] == [1, 3, 2, 2]
    assert facts["parameters"] == 3 * 2 * 2 * 2 + 3
    td = explain("time-distributed", module="conv2d").data
    assert td["folded"] == [10, 3, 32, 32] and td["output"] == [2, 5, 16, 30, 30]


@pytest.mark.parametrize("argv", [["lstm", "--num-layers", "2", "--bidirectional"], ["gru"],
                                  ["conv2d"], ["time-distributed"]])
def test_png_is_a_sane_picture(argv: list[str], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    import matplotlib.image

    png = tmp_path / "net.png"
    assert main(["explain", *argv, "--png", str(png)]) == 0
    assert f"wrote {png}" in capsys.readouterr().out
    height, width, _ = matplotlib.image.imread(png).shape
    assert 150 <= height <= 2000 and 300 <= width <= 3000
    assert not list(tmp_path.glob("*.tmp-*"))  # written atomically


def test_a_false_claim_raises_instead_of_printing() -> None:
    with pytest.raises(AssertionError, match="bug in timedist"):
        _check(False, "h_n is batch-first")


def test_bad_requests() -> None:
    with pytest.raises(ValueError, match="expected 'rnn', 'lstm', 'gru', 'conv2d'"):
        explain("transformer")
    with pytest.raises(ValueError, match="proj_size only for 'lstm'"):
        explain("gru", proj_size=1)
    with pytest.raises(SystemExit):
        main(["explain", "lstm", "--num-layers", "two"])
