"""`timedist fit | evaluate | predict` from the command line: DDP, resume, errors, exit codes."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from timedist.cli import main

QUICK = ["--data", "japanese-vowels", "--subset", "40", "--epochs", "1", "--hidden-size", "4",
         "--quiet"]


def timedist(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "timedist", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_ddp_with_two_processes_matches_one_process(tmp_path: Path) -> None:
    """Two CPU processes (gloo) at the same global batch size: one run directory, the same
    accuracy as one process within tolerance (the data order differs: DistributedSampler)."""
    common = ["fit", "--data", "japanese-vowels", "--epochs", "6", "--hidden-size", "32",
              "--quiet"]
    ddp = timedist(*common, "--devices", "2", "--strategy", "ddp", "--out", "ddp", cwd=tmp_path)
    assert ddp.returncode == 0, ddp.stderr[-3000:]
    one = timedist(*common, "--out", "one", cwd=tmp_path)
    assert one.returncode == 0, one.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "one"]
    ddp_metrics = json.loads((tmp_path / "ddp" / "metrics.json").read_text())
    one_metrics = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert ddp_metrics["epochs"] == one_metrics["epochs"] == 6
    assert one_metrics["test_accuracy"] > 0.85
    assert ddp_metrics["test_accuracy"] == pytest.approx(one_metrics["test_accuracy"], abs=0.05)


def test_cli_fit_evaluate_predict_round_trip(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    config = tmp_path / "settings.yaml"
    config.write_text("subset: 40\nepochs: 1\nhidden_size: 4\nlr: 0.01\n")
    assert main(["fit", "--data", "japanese-vowels", "--config", str(config), "--lr", "0.002",
                 "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert "test_accuracy" in out and str(run / "confusion_matrix.png") in out
    assert "lr: 0.002" in (run / "config.yaml").read_text()  # the flag overrides the file
    assert main(["evaluate", str(run)]) == 0
    assert "test_accuracy" in capsys.readouterr().out
    from timedist.data import read_ts
    from timedist.data.builtin import _file

    source = _file("JapaneseVowels_TEST.ts.gz")
    assert main(["predict", str(run), "--input", str(source), "--output",
                 str(tmp_path / "p.csv")]) == 0
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "index,prediction,probability"
    assert len(lines) == 1 + len(read_ts(source))
    assert main(["evaluate", str(run), "--data", str(source)]) == 0  # a labelled file


@pytest.mark.parametrize(("args", "message"), [
    (["fit", "--data", "mnist"], r"mnist: expected a built-in dataset \(japanese-vowels, "
     r"basic-motions, sunspots, airline, moving-digits, moving-digits-forecast\) or a file"),
    (["fit", "--data", "japanese-vowels", "--model", "transformer"],
     r"unknown model 'transformer'; expected one of rocket, inception, resnet, fcn, cnn-lstm"),
    (["fit", "--data", "missing.npz"], r"missing.npz: no such file"),
    (["fit", "--data", "japanese-vowels", "--model", "conv-lstm-forecaster"],
     r"model 'conv-lstm-forecaster' does not fit task 'classification'"),
    (["fit", "--data", "moving-digits", "--model", "sequence", "--subset", "8"],
     r"model 'sequence' expects signals, steps \(C,\); got steps \(1, 32, 32\): use cnn-lstm"),
    (["fit", "--data", "japanese-vowels", "--epochs", "0"], r"expected epochs >= 1; got 0"),
    (["evaluate", "nowhere"], r"nowhere: not a timedist run directory \(not found\)"),
    (["fit", "--resume", "nowhere"], r"nowhere/config.yaml: no such config file"),
])
def test_errors_are_one_line_with_exit_status_1(args: list[str], message: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"timedist {args[0]}: error: ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    import re

    assert re.search(message, err), err


def test_a_bad_file_names_the_line_and_debug_shows_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from timedist.data import TsFormatError

    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.ts"
    bad.write_text("@problemName bad\n@classLabel true a b\n@data\n1,2,3:a\n1,2,x:b\n")
    assert main(["fit", "--data", str(bad), "--quiet"]) == 1
    assert capsys.readouterr().err.strip() == (
        "timedist fit: error: bad.ts, line 5: expected a number, '?' or NaN; got 'x'")
    with pytest.raises(TsFormatError, match=r"bad\.ts, line 5"):  # --debug: the real exception
        main(["fit", "--data", str(bad), "--debug"])
    assert not (tmp_path / "runs").exists()  # nothing half-written


def test_run_directories_are_never_silently_replaced(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["fit", *QUICK]) == 0
    assert main(["fit", *QUICK]) == 0  # the default name takes the next free suffix
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "japanese-vowels", "japanese-vowels-2"]
    capsys.readouterr()
    assert main(["fit", *QUICK, "--out", "runs/japanese-vowels"]) == 1
    assert "exists; pass --overwrite to replace it or --resume" in capsys.readouterr().err
    assert main(["fit", *QUICK, "--out", "runs/japanese-vowels", "--overwrite"]) == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    assert main(["fit", *QUICK, "--out", "mine", "--overwrite"]) == 1
    err = capsys.readouterr().err
    assert "not a run timedist can prove it wrote (no .timedist-run.json)" in err
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    assert main(["fit", "--resume", "runs/japanese-vowels", "--lr", "0.1"]) == 1
    assert "--resume continues the stored config; drop --lr" in capsys.readouterr().err
    assert main(["fit", "--resume", "runs/japanese-vowels", "--quiet"]) == 0  # already done


def test_every_flag_the_docs_name_exists() -> None:
    """docs/training.md, results.md and the README only name flags that `timedist` (or the
    benchmark script quoted) really has."""
    import argparse
    import re

    from timedist.cli import build_parser

    def options(parser: argparse.ArgumentParser) -> set[str]:
        found = set()
        for action in parser._actions:
            found |= set(action.option_strings)
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for sub in choices.values():
                    found |= options(sub)
        return found

    root = REPO
    benchmark_flags = {flag for script in (root / "benchmarks").glob("*.py")
                       for flag in re.findall(r'add_argument\("(--[a-z-]+)"', script.read_text())}
    known = options(build_parser()) | benchmark_flags  # results.md quotes benchmark commands
    for doc in ("README.md", "docs/training.md", "docs/results.md"):
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]+", (root / doc).read_text()))
        named -= {"--nnodes", "--nproc-per-node", "--node-rank", "--master-addr",
                  "--master-port"}  # torchrun's own
        assert named <= known, (doc, sorted(named - known))


def test_summary_of_a_run_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["fit", *QUICK, "--out", "run"]) == 0
    capsys.readouterr()
    assert main(["summary", "run"]) == 0
    out = capsys.readouterr().out
    from timedist.train import load_run

    model, shape = load_run("run")
    assert shape[0] == 2 and shape[2:] == (12,)  # (2, T_max, C) of the training data
    assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in out
    assert "(2, 9)" in out  # the logits of the 9 speakers


def test_every_config_key_is_a_flag_and_back() -> None:
    """The flags are generated from RunConfig's fields: each key is a flag of its type, and
    the run's own options are the only other flags."""
    import argparse
    import typing
    from dataclasses import fields

    from timedist.cli import build_parser
    from timedist.cli.args import path
    from timedist.runs.config import PATHS
    from timedist.train import RunConfig

    hints = typing.get_type_hints(RunConfig)
    fit = build_parser()._subparsers._group_actions[0].choices["fit"]  # type: ignore[union-attr]
    flags = {a.dest: a for a in fit._actions if a.option_strings}
    own = {"help", "config", "out", "overwrite", "resume", "quiet", "debug"}
    assert set(flags) - own == {f.name for f in fields(RunConfig)}
    for setting in fields(RunConfig):
        action = flags[setting.name]
        assert action.option_strings[0] == "--" + setting.name.replace("_", "-")
        kind = set(typing.get_args(hints[setting.name]) or [hints[setting.name]]) - {type(None)}
        if kind == {bool}:
            assert isinstance(action, argparse.BooleanOptionalAction)
        else:
            assert len(kind) == 1
            assert action.type is (path if setting.name in PATHS else
                                   next(iter(kind)) if kind <= {int, float} else None)
        assert action.help and "{" not in action.help


@pytest.mark.parametrize(("layers", "expected"), [
    ([{"data": "sunspots"}], (60, None)),  # the dataset's default length
    ([{"data": "sunspots"}, {"steps": 300}], (None, 300)),  # --steps replaces it
    ([{"data": "good.ts", "epochs": 5}, {"steps": 300}], (None, 300)),  # a file's epochs
    ([{"data": "good.ts", "steps": 300}, {"epochs": 5}], (5, None)),
    ([{"data": "good.ts", "epochs": 5, "steps": 9}, {"epochs": 7}], (7, None)),  # a run's
    ([{"data": "good.ts", "epochs": 5, "steps": None}, {"steps": 300}], (None, 300)),
    ([{"data": "good.ts", "epochs": 5}, {"steps": None}], (5, None)),  # None gives nothing
    ([{"data": "good.ts", "epochs": 5}, {"lr": 0.1}], (5, None)),
    ([{"data": "good.ts"}, {"epochs": 5, "steps": 9}], (5, 9)),  # one place: checked later
])
def test_a_later_layer_giving_the_length_one_way_replaces_the_other_way(
        layers: list[dict[str, object]], expected: tuple[int | None, int | None]) -> None:
    """epochs and steps say how long to train: --steps over a config file's (or a dataset's
    default) epochs is the user's choice, not a conflict, as any later setting wins."""
    from timedist.train import resolve_config

    config = resolve_config(*layers)
    assert (config.epochs, config.steps) == expected


def test_a_network_without_lightning_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lightning missing (a core install): training a network is one ImportError naming the
    train extra; any other failed import inside the network module is raised as it is."""
    from timedist.runs import fitting

    lightning = importlib.import_module("lightning.pytorch")
    importlib.import_module("timedist.train.network")  # as after any network test: then
    monkeypatch.delattr(sys.modules["timedist.train"], "network")  # forgotten, to import again
    monkeypatch.delitem(sys.modules, "timedist.train.network")
    monkeypatch.setitem(sys.modules, "lightning.pytorch", None)
    with pytest.raises(ImportError, match=r"training a network needs the train extra: pip "
                                          r"install 'timedist\[train\]' .*--model rocket"):
        fitting.network()
    monkeypatch.setitem(sys.modules, "lightning.pytorch", lightning)
    monkeypatch.setitem(sys.modules, "timedist.train.convergence", None)
    with pytest.raises(ModuleNotFoundError) as raised:
        fitting.network()
    assert raised.value.name == "timedist.train.convergence"
