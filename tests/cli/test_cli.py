"""The `timedist` command: `tour` prints verified shapes; `--version`; `python -m timedist`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import assert_golden

import timedist
from timedist.cli import main


def test_tour_prints_the_verified_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tour"]) == 0
    out = capsys.readouterr().out
    assert "(5, 3, 3, 256, 256) -> (5, 3, 16, 254, 254)" in out
    assert "(4, 12, 8) -> (4, 12, 10)" in out and "params=    90" in out
    assert "params=   896" in out
    assert "folded input shares the video's storage: True" in out
    assert "DIFFERENT" not in out and out.rstrip().endswith("all checks passed")
    versionless = re.sub(r"^timedist \S+ \(torch \S+\)", "timedist V (torch V)", out)
    versionless = re.sub(r"off by up to \d+\.\d+", "off by up to X", versionless)
    assert "= torch per sample: equal" in out and "h_n[1] = backward: equal" in out
    assert_golden("tour.txt", versionless)


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "timedist", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == f"timedist {timedist.__version__}"


def test_no_command_prints_help(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # argparse wraps to the terminal width
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(command in out for command in ("fit", "evaluate", "predict", "tour"))
    assert_golden("cli_help.txt", out)


MODELS = '''
import torch.nn as nn
import timedist

def build():
    return nn.Sequential(timedist.TimeDistributed(nn.Linear(8, 10)),
                         timedist.GRU(10, 4, return_sequences=False))

INSTANCE = build()
'''


def test_summary_command_on_a_module_path(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "my_models.py").write_text(MODELS)  # type: ignore[operator]
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["summary", "my_models:build", "--input-size", "4,12,8"]) == 0
    out = capsys.readouterr().out
    assert_golden("cli_summary.txt", out)
    assert main(["summary", "my_models:INSTANCE", "--input-size", "2,3,8", "--depth", "1"]) == 0
    assert "(2, 3, 10)" in capsys.readouterr().out
    for bad in (["summary", "nonsense", "--input-size", "1,2,3"],
                ["summary", "my_models:missing", "--input-size", "1,2,3"],
                ["summary", "my_models:build", "--input-size", "4,x"]):
        with pytest.raises(SystemExit):
            main(bad)
    assert "MODULE:ATTRIBUTE, e.g." in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["summary", "my_models:build"])
    assert "expected --input-size for a model given by path" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["td-dense", "td-conv2d", "td-cnn-lstm", "bilstm-classifier"])
def test_summary_of_built_in_models(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from timedist.inspect.examples import EXAMPLES

    assert main(["summary", name]) == 0
    out = capsys.readouterr().out
    model = EXAMPLES[name].build()
    assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in out
    expected = {"td-dense": "(4, 12, 10)", "td-conv2d": "(4, 12, 32, 32, 32)",
                "td-cnn-lstm": "1 (LSTM)                   (4, 64)",
                "bilstm-classifier": "0 (LSTM)      (8, 128)"}[name]
    assert expected in out


@pytest.mark.parametrize("name", ["rocket", "inception", "cnn-lstm", "conv-lstm-forecaster"])
def test_summary_of_the_models_fit_trains(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A registry name: the model as `timedist fit` builds it for the input (its usual one by
    default), counted against the registry's own build; steps it cannot read: one line."""
    from timedist.models.registry import EXAMPLE_INPUTS, MODELS, for_input
    from timedist.runs.config import RunConfig

    shape = EXAMPLE_INPUTS[max(MODELS[name].steps)]
    if name == "rocket":  # its 10,000 features on the usual input take ~15 s: a small one
        shape = (2, 40, 1)
    assert main(["summary", name, *(["--input-size", "2,40,1"] if name == "rocket" else [])]) == 0
    out = capsys.readouterr().out
    model = for_input(name, shape, RunConfig())
    assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in out
    assert f"Input shape: {shape}" in out and type(model).__name__ in out
    for bad, says in (("2,8,3,4", f"model '{name}' expects "), ("2,8", "expected an input")):
        with pytest.raises(SystemExit):
            main(["summary", name, "--input-size", bad])
        assert says in capsys.readouterr().err


def test_quick_commands_do_not_import_lightning(tmp_path: Path) -> None:
    """--help, usage errors, datasets, explain, summary (of a built-in model and of a run
    directory) never import Lightning (issue 13: it cost ~4 s each)."""
    import timedist.train

    assert sorted(timedist.train.__all__) == sorted(timedist.train._HOMES)
    data = tmp_path / "a.ts"
    rows = [",".join(str((i * 7 + t) % 5) for t in range(20)) + f":{'ab'[i % 2]}"
            for i in range(12)]
    data.write_text("@classLabel true a b\n@data\n" + "\n".join(rows) + "\n")
    assert main(["fit", "--data", str(data), "--out", str(tmp_path / "run"), "--members", "1",
                 "--quiet"]) == 0
    code = """
import contextlib, io, sys
from timedist.cli import main
for args in (["--help"], ["fit", "--no-such-flag"], ["datasets"], ["explain", "gru"],
             ["summary", "td-dense"], ["summary", sys.argv[1]]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(args)
        except SystemExit:
            pass
from timedist.train import RunConfig, choose_defaults, load_run
print(sorted(m for m in sys.modules if m.split(".")[0] in ("lightning", "pytorch_lightning")))
"""
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300, check=True)
    assert result.stdout.strip() == "[]", result.stdout[-500:]


@pytest.mark.parametrize(("args", "status", "message"), [
    (["explain", "lstm", "--hidden-size", "-3"], 2,
     r"argument --hidden-size: expected an integer >= 1 and <= 1024; got '-3'"),
    (["explain", "conv2d", "--kernel-size", "0"], 2,
     r"argument --kernel-size: expected an integer >= 1 and <= 1024; got '0'"),
    (["explain", "time-distributed", "--steps", "0"], 2, r"argument --steps: expected an "),
    (["explain", "lstm", "--png", "/nonexistent/dir/x.png"], 1,
     r"timedist explain: error: --png /nonexistent/dir/x.png: no such folder /nonexistent/dir"),
    (["summary", "os:path"], 2, r"expected os:path to be an nn.Module, or a class or function "
                                r"that builds one without arguments"),
    (["summary", "torch.nn:Linear"], 2, r"calling it failed: .*missing 2 required"),
    (["summary", "td-dense", "--input-size", "4,5"], 1,
     r"timedist summary: error: TimeDistributed\(Linear\): expected input \(B, T, \.\.\.\)"),
])
def test_bad_arguments_are_one_line(args: list[str], status: int, message: str,
                                    capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMEDIST_DEBUG", raising=False)
    if status == 2:
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 2
    else:
        assert main(args) == 1
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


def test_timedist_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMEDIST_DEBUG", "1")
    with pytest.raises(ValueError, match=r"TimeDistributed\(Linear\): expected input"):
        main(["summary", "td-dense", "--input-size", "4,5"])
