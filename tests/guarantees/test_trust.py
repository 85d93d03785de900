"""What a run means is what the user meant (issue 20): paths read from where they were given
and found again when a run moves, numbers kept at their precision, nothing called what it is
not, a run that knows its data and its model, and one line for every failure.

Each test compares with an independent reference: the same data without the offset, strict
JSON, a file read by numpy, the fit's own printed metrics, the folder's hash.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import snapshot

from timedist.cli import main
from timedist.data import SequenceDataset, load_npz, read_ts
from timedist.estimators import TimeSeriesClassifier, TimeSeriesRegressor
from timedist.runs.config import resolve_config
from timedist.runs.prepare import fitted_indices, prepare, repeats, seen_by_run

FAST = ["--members", "1", "--num-features", "168", "--quiet"]


def signals(n: int = 24, t: int = 30, seed: int = 0, offset: float = 0.0,
            amplitude: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(X (n, t, 1) float64, y (n,) labels a/b): class b rises, class a falls, with noise."""
    rng = np.random.default_rng(seed)
    y = np.array(["ab"[i % 2] for i in range(n)])
    ramp = np.linspace(-1, 1, t) * np.where(y == "b", 1, -1)[:, None]
    x = offset + amplitude * (ramp + 0.3 * rng.normal(size=(n, t)))
    return x[..., None], y


def write_ts(path: Path, x: np.ndarray, y: np.ndarray) -> Path:
    labels = " ".join(dict.fromkeys(y.tolist()))
    rows = [",".join(repr(float(v)) for v in series[:, 0]) + f":{label}"
            for series, label in zip(x, y, strict=True)]
    path.write_text(f"@classLabel true {labels}\n@data\n" + "\n".join(rows) + "\n")
    return path


def metrics(run: Path, name: str = "metrics.json") -> dict[str, object]:
    """metrics.json parsed as strict JSON: Infinity or NaN would fail here."""
    def refuse(token: str) -> None:
        raise AssertionError(f"{name} holds {token}")

    return json.loads((run / name).read_text(), parse_constant=refuse)  # type: ignore


# -- paths mean what the user meant -------------------------------------------------------------


def test_evaluate_from_another_folder_reads_the_runs_own_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    x, y = signals(seed=1)
    write_ts(project / "train.ts", x, y)
    write_ts(project / "test.ts", *signals(seed=2))
    flipped = np.where(y == "a", "b", "a")  # the same names elsewhere, labels swapped
    write_ts(elsewhere / "train.ts", x, flipped)
    write_ts(elsewhere / "test.ts", signals(seed=2)[0], np.where(signals(seed=2)[1] == "a",
                                                                 "b", "a"))
    monkeypatch.chdir(project)
    assert main(["fit", "--data", "train.ts", "--test-data", "test.ts", "--out", "run",
                 *FAST]) == 0
    fitted = metrics(project / "run")["test_accuracy"]
    monkeypatch.chdir(elsewhere)
    assert main(["evaluate", "../project/run"]) == 0
    evaluated = metrics(project / "run" / "evaluation", "evaluation.json")
    assert evaluated["test_accuracy"] == fitted == 1.0
    assert evaluated["evaluated_on"] == "test"


def test_config_paths_are_read_from_the_config_files_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings").mkdir()
    write_ts(tmp_path / "settings" / "train.ts", *signals())
    (tmp_path / "settings" / "c.yaml").write_text("data: train.ts\nmembers: 1\n"
                                                  "num_features: 168\n")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    assert main(["fit", "--config", "../settings/c.yaml", "--out", "run", "--quiet"]) == 0
    stored = (tmp_path / "cwd" / "run" / "config.yaml").read_text()
    assert f"data: {tmp_path / 'settings' / 'train.ts'}" in stored


@pytest.mark.parametrize("move", ["the run alone", "the run with its data"])
def test_a_moved_run_still_evaluates_and_predicts(tmp_path: Path, move: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    write_ts(project / "train.ts", *signals(seed=1))
    write_ts(project / "test.ts", *signals(seed=2))
    monkeypatch.chdir(project)
    assert main(["fit", "--data", "train.ts", "--test-data", "test.ts", "--out", "run",
                 *FAST]) == 0
    monkeypatch.chdir(tmp_path)
    if move == "the run alone":
        moved = tmp_path / "archive" / "run"
        moved.parent.mkdir()
        shutil.move(str(project / "run"), moved)
    else:
        shutil.move(str(project), tmp_path / "renamed")
        moved = tmp_path / "renamed" / "run"
    assert main(["evaluate", str(moved)]) == 0
    assert metrics(moved / "evaluation", "evaluation.json")["test_accuracy"] == 1.0
    test_file = moved.parent / "test.ts" if move != "the run alone" else project / "test.ts"
    assert main(["predict", str(moved), "--input", str(test_file), "--output",
                 str(tmp_path / "p.csv")]) == 0


def test_evaluate_refuses_a_test_file_that_changed(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    write_ts(tmp_path / "train.ts", *signals(seed=1))
    write_ts(tmp_path / "test.ts", *signals(seed=2))
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.ts"), "--test-data",
                 str(tmp_path / "test.ts"), "--out", str(run), *FAST]) == 0
    write_ts(tmp_path / "test.ts", *signals(seed=3))
    before = snapshot(tmp_path)
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err
    assert f"its test data {tmp_path / 'test.ts'} changed since the run was trained" in err
    assert snapshot(tmp_path) == before


def test_a_local_folder_named_like_a_built_in_dataset_is_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sunspots").mkdir()
    assert main(["fit", "--data", "sunspots", "--epochs", "1", "--hidden-size", "4",
                 "--out", "run"]) == 0
    out = capsys.readouterr().out
    assert "note   'sunspots' is a built-in dataset, used here; a folder of that name is in " \
           "this folder too: pass ./sunspots to train on it" in out


# -- numbers keep their precision -----------------------------------------------------------------


@pytest.mark.parametrize("offset", [1e8, 1e12])
def test_a_large_offset_keeps_the_signal(tmp_path: Path, offset: float) -> None:
    """Timestamps, absolute pressures, coordinates: a float64 file with an offset learns as
    well as the same file without it (float32 before standardization rounded the signal
    away: 1e8 has a float32 spacing of 8)."""
    accuracies = []
    for shift in (0.0, offset):
        x, y = signals(n=40, offset=shift, amplitude=1e-3 * max(1.0, shift / 1e8))
        np.savez(tmp_path / "train.npz", X=x[:20], y=y[:20])
        np.savez(tmp_path / "test.npz", X=x[20:], y=y[20:])
        run = tmp_path / f"run{shift}"
        assert main(["fit", "--data", str(tmp_path / "train.npz"), "--test-data",
                     str(tmp_path / "test.npz"), "--out", str(run), *FAST]) == 0
        accuracies.append(metrics(run)["test_accuracy"])
    assert accuracies[0] == accuracies[1] == 1.0
    clf = TimeSeriesClassifier(members=1, num_features=168).fit(x[:20], y[:20])
    assert clf.score(x[20:], y[20:]) == 1.0


def test_regression_targets_keep_their_offset_and_digits(tmp_path: Path) -> None:
    """Targets 1e8 + y are predicted as well as y alone (the same errors, shifted), and
    written with every digit float64 holds."""
    rng = np.random.default_rng(0)
    slopes = rng.uniform(-1, 1, size=60)
    x = (slopes[:, None] * np.linspace(-1, 1, 20) + 0.1 * rng.normal(size=(60, 20)))[..., None]
    y = slopes * 10
    predictions = []
    for shift in (0.0, 1e8):
        np.savez(tmp_path / "train.npz", X=x[:40], y=y[:40] + shift)
        np.savez(tmp_path / "test.npz", X=x[40:], y=y[40:] + shift)
        run = tmp_path / f"run{shift}"
        assert main(["fit", "--data", str(tmp_path / "train.npz"), "--test-data",
                     str(tmp_path / "test.npz"), "--out", str(run), *FAST]) == 0
        assert main(["predict", str(run), "--input", str(tmp_path / "test.npz"), "--output",
                     str(tmp_path / f"p{shift}.csv")]) == 0
        with open(tmp_path / f"p{shift}.csv") as handle:
            predictions.append(np.array([float(r["prediction"])
                                         for r in csv.DictReader(handle)]) - shift)
        reg = TimeSeriesRegressor(members=1, num_features=168).fit(x[:40], y[:40] + shift)
        np.testing.assert_allclose(reg.predict(x[40:]) - shift, predictions[-1], atol=1e-6)
    np.testing.assert_allclose(predictions[1], predictions[0], atol=1e-6)
    assert np.corrcoef(predictions[0], y[40:])[0, 1] > 0.9  # it learned the slopes


def test_huge_targets_give_finite_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 16, 1))
    y = 1e20 * (1 + x[:, :, 0].mean(1))
    np.savez(tmp_path / "train.npz", X=x, y=y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--out", str(run), *FAST]) == 0
    found = metrics(run)  # strict JSON: no Infinity
    assert found["evaluated_on"] == "training"  # no test data: named by what it is on
    assert 0 < found["training_rmse"] < 1e21  # type: ignore[operator]


def test_tiny_targets_keep_their_errors(tmp_path: Path) -> None:
    """Targets near 1e-300: the RMSEs are computed scaled (not 0 by underflow, which made
    'no better than the mean' notes of 0 vs 0); the MSE, below float64's range, is null
    with a note."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 16, 1))
    y = 1e-300 * (1 + x[:, :, 0].mean(1))
    np.savez(tmp_path / "train.npz", X=x, y=y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--out", str(run), *FAST]) == 0
    found = metrics(run)
    spread = 1e-300 * float(np.sqrt(np.mean(((y - y.mean()) / 1e-300) ** 2)))  # by hand
    assert found["baseline_rmse"] == pytest.approx(spread, rel=1e-9)
    assert 0 < found["training_rmse"] < 10 * spread  # type: ignore[operator]
    assert found["training_mse"] is None  # (with a note, which --quiet hides)


@pytest.mark.parametrize("scale", [1e-40, 1e30, 1e300])
def test_values_of_any_float64_size_train(tmp_path: Path, scale: float) -> None:
    x, y = signals(n=40, amplitude=scale)
    np.savez(tmp_path / "train.npz", X=x[:20], y=y[:20])
    np.savez(tmp_path / "test.npz", X=x[20:], y=y[20:])
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--test-data",
                 str(tmp_path / "test.npz"), "--out", str(run), *FAST]) == 0
    assert metrics(run)["test_accuracy"] == 1.0


def test_values_beyond_float32_without_normalization_are_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = signals(amplitude=1e39)
    np.savez(tmp_path / "train.npz", X=x, y=y)
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--normalize", "none",
                 "--out", str(tmp_path / "run"), *FAST]) == 1
    err = capsys.readouterr().err
    assert "beyond float32's range (3.4e38)" in err and "use --normalize channel" in err
    assert not (tmp_path / "run").exists()


def test_a_float64_file_is_read_exactly(tmp_path: Path) -> None:
    import torch

    x = np.array([[[1e8 + 0.125], [1e8 - 0.5]], [[3.0], [4.0]]])
    np.savez(tmp_path / "x.npz", X=x, y=np.array(["a", "b"]))
    data = load_npz(tmp_path / "x.npz")
    assert data.sequences[0].dtype == torch.float64
    assert data.sequences[0][:, 0].tolist() == [1e8 + 0.125, 1e8 - 0.5]
    scale = data.fit_standardization()
    assert scale.mean.dtype == torch.float64
    assert data.with_standardization(scale)[0][0].dtype == torch.float32


# -- nothing is called what it is not --------------------------------------------------------------


def test_labels_are_text_however_they_were_stored(tmp_path: Path) -> None:
    x, y = signals()
    np.savez(tmp_path / "bytes.npz", X=x, y=np.char.encode(y.astype(str)))
    assert load_npz(tmp_path / "bytes.npz").classes == ["a", "b"]
    (tmp_path / "dup.ts").write_text("@classLabel true a b a\n@data\n1,2:a\n2,1:b\n")
    assert read_ts(tmp_path / "dup.ts").classes == ["a", "b"]
    np.savez(tmp_path / "classes.npz", X=x, y=y, classes=np.array(["b", "a", "b"]))
    assert load_npz(tmp_path / "classes.npz").classes == ["b", "a"]
    for bad, message in ((np.array(["a", " ", "b"] * 8), "expected a non-blank label"),
                         (np.array([b"\xff", b"a"] * 12), "bytes that are not UTF-8")):
        np.savez(tmp_path / "bad.npz", X=x, y=bad[: len(x)])
        with pytest.raises(ValueError, match=message):
            load_npz(tmp_path / "bad.npz")


def test_a_declared_class_without_samples_is_said(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    x, y = signals()
    path = write_ts(tmp_path / "t.ts", x, y)
    path.write_text(path.read_text().replace("@classLabel true a b", "@classLabel true a b c"))
    assert main(["fit", "--data", str(path), "--out", str(tmp_path / "run"), *FAST[:-1]]) == 0
    assert "1 declared class (['c']) has no training samples" in capsys.readouterr().out


def test_training_metrics_are_never_called_test(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = write_ts(tmp_path / "train.ts", *signals())
    run = tmp_path / "run"
    assert main(["fit", "--data", str(path), "--test-data", str(path), "--out", str(run),
                 *FAST[:-1]]) == 0
    out = capsys.readouterr().out
    assert "holds only the run's training samples (all 24)" in out
    assert "training metrics:" in out
    assert metrics(run)["evaluated_on"] == "training"
    for args in ([], ["--data", str(path)]):
        assert main(["evaluate", str(run), *args]) == 0
        assert metrics(run / "evaluation", "evaluation.json")["evaluated_on"] == "training"
        assert "training metrics" in capsys.readouterr().out
    alone = tmp_path / "alone"
    assert main(["fit", "--data", str(path), "--out", str(alone), *FAST]) == 0
    quiet = capsys.readouterr()  # --quiet: no results, but the note, alone on stderr
    assert quiet.out == "" and quiet.err.startswith("note   no test file and no validation split")
    assert main(["evaluate", str(alone)]) == 0
    assert metrics(alone / "evaluation", "evaluation.json")["evaluated_on"] == "training"
    assert "these metrics are on the training data" in capsys.readouterr().out


def test_test_samples_that_repeat_training_samples_are_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = signals(n=24)
    write_ts(tmp_path / "train.ts", x[:16], y[:16])
    write_ts(tmp_path / "test.ts", x[12:], y[12:])  # 4 of 12 test samples are training ones
    assert main(["fit", "--data", str(tmp_path / "train.ts"), "--test-data",
                 str(tmp_path / "test.ts"), "--out", str(tmp_path / "run"), *FAST[:-1]]) == 0
    out = capsys.readouterr().out
    assert "of the 12 samples of" in out and "test.ts, 4 are training samples of the run" in out


# -- a run knows what it is ------------------------------------------------------------------------


def test_resume_refuses_changed_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = signals()
    path = write_ts(tmp_path / "train.ts", x, y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(path), "--model", "fcn", "--epochs", "1",
                 "--batch-size", "8", "--out", str(run), "--quiet"]) == 0
    more = np.concatenate([y[:-4], np.array(["c"] * 4)])
    write_ts(path, x, more)  # the data gained a class
    before = snapshot(tmp_path)
    assert main(["fit", "--resume", str(run)]) == 1
    err = capsys.readouterr().err
    assert "the training data's classes changed since the run started (now ['a', 'b', 'c']" \
           in err and "Traceback" not in err
    assert snapshot(tmp_path) == before
    write_ts(path, x * 2, y)  # the same classes, other values
    assert main(["fit", "--resume", str(run)]) == 1
    assert "changed since the run was trained (the same number of samples, other values)" in \
        capsys.readouterr().err


def test_an_onnx_file_of_another_run_of_the_same_shapes_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_ts(tmp_path / "train.ts", *signals())
    flags = ["--model", "sequence", "--epochs", "1", "--hidden-size", "4", "--quiet"]
    for name, seed in (("one", "0"), ("two", "1")):
        assert main(["fit", "--data", str(path), "--out", str(tmp_path / name), "--seed",
                     seed, *flags]) == 0
    assert main(["export", str(tmp_path / "two")]) == 0
    args = ["predict", str(tmp_path / "one"), "--input", str(path), "--output",
            str(tmp_path / "p.csv"), "--model", str(tmp_path / "two" / "model.onnx")]
    assert main(args) == 1
    assert "exported from another run, or from this run before its best checkpoint changed" \
        in capsys.readouterr().err
    import onnx
    from onnx import numpy_helper

    proto = onnx.load(str(tmp_path / "two" / "model.onnx"))  # a weight edited, metadata kept
    first = proto.graph.initializer[0]
    first.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(first) * 2, first.name))
    onnx.save(proto, str(tmp_path / "edited.onnx"))
    assert main(["predict", str(tmp_path / "two"), "--input", str(path), "--output",
                 str(tmp_path / "p.csv"), "--model", str(tmp_path / "edited.onnx")]) == 1
    assert "its weights were changed after timedist export wrote it" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "two"), "--input", str(path), "--output",
                 str(tmp_path / "p.csv"), "--model", str(tmp_path / "two" / "model.onnx")]) == 0
    (tmp_path / "p.csv").unlink()
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    args[-1] = str(tmp_path / "bad.onnx")
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "bad.onnx: not a readable ONNX model" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "p.csv").exists()


# -- one line, never a traceback -------------------------------------------------------------------


def test_a_yaml_alias_bomb_is_one_short_line(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\ndata: *a8\n")
    assert main(["fit", "--config", str(tmp_path / "bomb.yaml")]) == 1
    err = capsys.readouterr().err
    assert "found an alias (*name); config files take plain values only" in err
    assert len(err) < 600 and len(err.splitlines()) == 1


def test_huge_values_in_a_config_are_shortened(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "c.yaml").write_text("data: [" + ", ".join(["1"] * 20000) + "]\n")
    assert main(["fit", "--config", str(tmp_path / "c.yaml")]) == 1
    err = capsys.readouterr().err
    assert "expected data of type str; got [1, 1," in err and "characters)" in err
    assert len(err) < 600


def test_a_ddp_rendezvous_that_nobody_joins_says_so_and_times_out(tmp_path: Path) -> None:
    write_ts(tmp_path / "train.ts", *signals())
    env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29577", "NODE_RANK": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "timedist", "fit", "--data", str(tmp_path / "train.ts"),
         "--model", "fcn", "--epochs", "1", "--num-nodes", "2", "--accelerator", "cpu",
         "--ddp-timeout", "5", "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "waiting up to 5 s for the 2 processes of --num-nodes 2 x --devices 1 to join at " \
           "127.0.0.1:29577" in result.stdout
    assert "DDP: not every process of --devices 1 x --num-nodes 2 joined within " \
           "--ddp-timeout 5 s" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "run").exists()


def test_the_default_run_folder_of_a_hidden_file_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    x, y = signals()
    np.savez(tmp_path / ".secret.npz", X=x, y=y)
    assert main(["fit", "--data", ".secret.npz", *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["secret"]


def test_a_stray_rank_in_the_environment_of_one_process_changes_nothing(tmp_path: Path) -> None:
    """RANK=1 (a shell inside torchrun, say) and TIMEDIST_RUN_DIR pointing elsewhere: a fit of
    one process still writes its own run, and nothing into the other folder."""
    write_ts(tmp_path / "train.ts", *signals())
    (tmp_path / "victim").mkdir()
    env = {**os.environ, "RANK": "1", "TIMEDIST_RUN_DIR": str(tmp_path / "victim")}
    result = subprocess.run([sys.executable, "-m", "timedist", "fit", "--data", "train.ts",
                             "--out", "mine", *FAST], capture_output=True, text=True,
                            timeout=300, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "mine" / "metrics.json").is_file()
    assert list((tmp_path / "victim").iterdir()) == []


def test_a_channel_without_values_is_said(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    x, y = signals()
    x = np.concatenate([x, np.full_like(x, np.nan)], axis=2)
    np.savez(tmp_path / "train.npz", X=x, y=y)
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--out", str(tmp_path / "run"),
                 *FAST[:-1]]) == 0
    assert "channel 1 of 2 holds no value in the training data (all missing)" in \
        capsys.readouterr().out


@pytest.mark.parametrize(("error", "line"), [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't "
                  "allocate memory: you tried to allocate 240000000000 bytes."),
     "out of memory ([enforce fail"),
    (MemoryError("Unable to allocate 373. GiB"), "out of memory (Unable to allocate 373. GiB)"),
    (IndexError("list index out of range"), "unexpected IndexError: list index out of range (a "
                                            "bug in timedist: rerun with --debug and report it)"),
    (ValueError("x" * 5000), "...(5000 characters)..."),
    (ValueError("two\nlines"), "two lines"),
])
def test_every_failure_is_one_line(error: BaseException, line: str) -> None:
    from timedist.cli import error_line

    text = error_line(error)
    assert line in text and "\n" not in text and len(text) <= 1000


def test_an_output_that_is_a_link_is_written_through(tmp_path: Path) -> None:
    """``--output latest.csv`` where latest.csv links to results/today.csv: with --overwrite
    the target gets the predictions and the link stays, as a shell's ``>`` does."""
    path = write_ts(tmp_path / "train.ts", *signals())
    assert main(["fit", "--data", str(path), "--out", str(tmp_path / "run"), *FAST]) == 0
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "today.csv").write_text("old\n")
    (tmp_path / "latest.csv").symlink_to(tmp_path / "results" / "today.csv")
    args = ["predict", str(tmp_path / "run"), "--input", str(path), "--output",
            str(tmp_path / "latest.csv")]
    assert main(args) == 1  # it exists
    assert main([*args, "--overwrite"]) == 0
    assert (tmp_path / "latest.csv").is_symlink()
    assert (tmp_path / "results" / "today.csv").read_text().startswith("index,prediction")


def test_resume_takes_a_cache_folder_only_from_the_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's config.yaml names a cache folder: --resume does not write there unless the
    user names it again (nothing stored in a run makes timedist write elsewhere)."""
    import timedist.runs.run

    path = write_ts(tmp_path / "train.ts", *signals())
    assert main(["fit", "--data", str(path), "--out", str(tmp_path / "run"), *FAST]) == 0
    stored = tmp_path / "run" / "config.yaml"  # as a clip run stores it (edited by hand here)
    stored.write_text(re.sub(r"(?m)^cache: .*$", f"cache: {tmp_path / 'somewhere'}",
                             stored.read_text()))
    seen = []
    monkeypatch.setattr(timedist.runs.run, "fit", lambda config, **_: seen.append(config.cache))
    assert main(["fit", "--resume", str(tmp_path / "run")]) == 0
    assert main(["fit", "--resume", str(tmp_path / "run"), "--cache",
                 str(tmp_path / "mine")]) == 0
    assert seen == [None, str(tmp_path / "mine")]


# -- part 3: what is read is what was meant ------------------------------------------------------


@pytest.mark.parametrize("dtype", [">f8", "<f4", ">i4", "u2", "u8", "longdouble"])
def test_npz_numbers_of_any_byte_order_and_width_read_as_their_values(
        tmp_path: Path, dtype: str) -> None:
    """Each dtype numpy writes reads as the same values as the native float64 array."""
    values = np.array([[[0.0], [1.0], [3.0]], [[7.0], [250.0], [2.0]]])
    np.savez(tmp_path / "x.npz", X=values.astype(dtype), y=np.array(["a", "b"]))
    read = load_npz(tmp_path / "x.npz")
    np.testing.assert_array_equal(np.stack([s.double().numpy() for s in read.sequences]),
                                  values)


def test_wide_unsigned_integers_keep_their_value(tmp_path: Path) -> None:
    big = np.array([[[2**63 + 2**11], [0]], [[1], [2]]], dtype=np.uint64)
    np.savez(tmp_path / "x.npz", X=big, y=np.array(["a", "b"]))
    read = load_npz(tmp_path / "x.npz")
    assert float(read.sequences[0][0, 0].double()) == float(2**63 + 2**11)  # not wrapped < 0


@pytest.mark.parametrize("dtype", ["<u8", ">u8", "<u4", "i8"])
def test_integer_labels_of_any_width_are_classes(tmp_path: Path, dtype: str) -> None:
    """Integer labels stay classes named by their value, past int64's range too (they were
    read as float64 there, and floats mean regression)."""
    top = {"<u8": 2**64 - 1, ">u8": 2**63, "<u4": 2**32 - 1, "i8": 2**63 - 1}[dtype]
    labels = np.array([0, top, 0, top], dtype=dtype)
    np.savez(tmp_path / "x.npz", X=np.zeros((4, 3, 1)), y=labels)
    read = load_npz(tmp_path / "x.npz")
    assert read.classes is not None and sorted(read.classes) == sorted(["0", str(top)])
    assert [read.classes[int(t)] for t in read.targets] == ["0", str(top), "0", str(top)]


@pytest.mark.parametrize("how", ["shuffled", "half", "split", "held", "subset", "moved"])
def test_evaluate_on_the_training_samples_says_so(
        tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Training rows in another order (or another file holding some of them) are found by
    their values: "training" metrics, or a note counting them; samples held out for
    validation (or left out by --subset) are not called training samples."""
    x, y = signals(n=24, seed=4)
    write_ts(tmp_path / "train.ts", x, y)
    order = np.random.default_rng(1).permutation(24)
    flags = {"split": ["--val-split", "0.25"], "held": ["--val-split", "0.25"],
             "subset": ["--subset", "12"]}.get(how, [])
    fitted, held = fitted_indices(resolve_config({
        "data": "own.ts", "val_split": 0.25 if flags[:1] == ["--val-split"] else 0.0,
        "subset": 12 if how == "subset" else 0}), 24)
    if how == "half":
        fresh, labels = signals(n=12, seed=9)
        write_ts(tmp_path / "other.ts", np.concatenate([x[order[:6]], fresh[:6]]),
                 np.concatenate([y[order[:6]], labels[:6]]))
    elif how == "held":
        write_ts(tmp_path / "other.ts", x[held], y[held])
    else:
        write_ts(tmp_path / "other.ts", x[order], y[order])
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.ts"), "--out", str(run), *FAST,
                 *flags]) == 0
    capsys.readouterr()
    if how == "moved":  # the training file is gone: the run's kept keys still know its samples
        (tmp_path / "train.ts").unlink()
    assert main(["evaluate", str(run), "--data", str(tmp_path / "other.ts")]) == 0
    out = capsys.readouterr().out
    evaluated_on = metrics(run / "evaluation", "evaluation.json")["evaluated_on"]
    expected = {"shuffled": ("training", "holds only the run's training samples (all 24)"),
                "moved": ("training", "holds only the run's training samples (all 24)"),
                "half": (str(tmp_path / "other.ts"), "other.ts, 6 are training samples of the run"),
                "split": ("training", "is the run's training data: 18 samples it fitted on "
                          "and 6 validation samples"),
                "held": ("validation", "holds only the run's validation samples (all 6"),
                "subset": (str(tmp_path / "other.ts"), "of the 24 samples of")}[how]
    assert (evaluated_on, expected[1] in out) == (expected[0], True), out
    assert len(fitted) == {"split": 18, "held": 18, "subset": 12}.get(how, 24)


@pytest.mark.parametrize("how", ["bare name, project moved", "relative", "absolute",
                                 "from inside the run's folder"])
def test_the_runs_own_training_file_as_data_is_evaluated_as_given(
        tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """--data FILE is the file to evaluate even when it is the run's own training file, by
    whatever name: training metrics on its samples, never the run's test split."""
    project = tmp_path / "project"
    project.mkdir()
    write_ts(project / "train.ts", *signals(n=24, seed=4))
    write_ts(project / "test.ts", *signals(n=10, seed=5))
    monkeypatch.chdir(project)
    assert main(["fit", "--data", "train.ts", "--test-data", "test.ts", "--out", "runs/a",
                 *FAST]) == 0
    if how == "bare name, project moved":
        project = project.rename(tmp_path / "moved")
        monkeypatch.chdir(project)
    run, data = "runs/a", {"absolute": str(project / "train.ts"),
                           "from inside the run's folder": "../train.ts"}.get(how, "train.ts")
    if how == "from inside the run's folder":
        monkeypatch.chdir(project / "runs")
        run = "a"
    capsys.readouterr()
    assert main(["evaluate", run, "--data", data]) == 0
    out = capsys.readouterr().out
    evaluation = metrics(project / "runs" / "a" / "evaluation", "evaluation.json")
    assert (evaluation["evaluated_on"], evaluation["training_samples"]) == ("training", 24), out
    assert "holds only the run's training samples (all 24)" in out
    assert main(["evaluate", run]) == 0  # and without --data: its test file
    assert metrics(project / "runs" / "a" / "evaluation", "evaluation.json")[
        "test_samples"] == 10


@pytest.mark.parametrize("how", ["all", "half"])
def test_a_model_saved_from_python_knows_its_training_samples(
        tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A run saved by an estimator (fitted on arrays, no file to read again) recognizes its
    training series in a file evaluated later, in any order."""
    x, y = signals(n=24, seed=5)
    clf = TimeSeriesClassifier(members=1, num_features=168).fit(x, y)
    run = clf.save(tmp_path / "saved")
    order = np.random.default_rng(2).permutation(24)[: 24 if how == "all" else 10]
    fresh, labels = signals(n=6, seed=11)
    picked = (x[order], y[order]) if how == "all" else (
        np.concatenate([x[order], fresh]), np.concatenate([y[order], labels]))
    write_ts(tmp_path / "mine.ts", *picked)
    assert main(["evaluate", str(run), "--data", str(tmp_path / "mine.ts")]) == 0
    out = capsys.readouterr().out
    evaluated_on = metrics(run / "evaluation", "evaluation.json")["evaluated_on"]
    if how == "all":
        assert evaluated_on == "training" and "holds only the run's training samples" in out
    else:
        assert evaluated_on == str(tmp_path / "mine.ts")
        assert "of the 16 samples of" in out and ", 10 are training" in out
    again = TimeSeriesClassifier.load(run)
    assert again.training_keys_ == clf.training_keys_ and len(again.training_keys_) == 24


def test_resuming_a_finished_rocket_run_tests_it_again(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rocket is fitted in one step: --resume keeps its weights and its train_seconds (it
    fitted again and replaced them)."""
    path = write_ts(tmp_path / "train.ts", *signals())
    run = tmp_path / "run"
    assert main(["fit", "--data", str(path), "--out", str(run), *FAST]) == 0
    before = metrics(run)
    weights = (run / "checkpoints" / "best.ckpt").read_bytes()
    capsys.readouterr()
    assert main(["fit", "--resume", str(run)]) == 0
    assert "nothing left to train: rocket is fitted in one step" in capsys.readouterr().out
    after = metrics(run)
    assert after["train_seconds"] == before["train_seconds"]
    assert after["training_accuracy"] == before["training_accuracy"]
    assert (run / "checkpoints" / "best.ckpt").read_bytes() == weights


def test_a_model_saved_from_python_cannot_be_resumed(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = TimeSeriesClassifier(members=1, num_features=168).fit(*signals()).save(tmp_path / "s")
    before = snapshot(run)
    assert main(["fit", "--resume", str(run)]) == 1
    assert "was fitted in Python on arrays: it is fitted in one go and cannot be resumed" in (
        capsys.readouterr().err)
    assert snapshot(run) == before


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize(("subset", "val_split"), [(0, 0.25), (15, 0.2), (15, 0.0)])
def test_fitted_indices_are_the_samples_prepare_fits_on(seed: int, subset: int,
                                                        val_split: float) -> None:
    """What evaluate counts as seen is what fit used: sample i carries the value i."""
    x = np.arange(24, dtype=np.float64)[:, None, None] * np.ones((1, 5, 1))
    data = SequenceDataset([torch.from_numpy(s) for s in x], torch.arange(24) % 2,
                           classes=["a", "b"])
    config = resolve_config({"data": "own.ts", "subset": subset, "val_split": val_split,
                             "seed": seed, "normalize": "none"})
    prepared = prepare(config, data, None)
    ids = [[int(s[0, 0]) for s in part.sequences] if part is not None else []
           for part in (prepared.train, prepared.val)]
    assert fitted_indices(config, 24) == (ids[0], ids[1])


def test_a_separate_validation_folder_is_held_out_not_trained_on() -> None:
    """Clips of a val/ folder (``held_too``) count as validation samples, never training."""
    config = resolve_config({"data": "clips", "val_split": 0.0})
    assert seen_by_run(config, [b"a", b"b", b"c"], [b"a", b"v", b"x", b"b"], [b"v"]) == (2, 1)
    assert repeats("f", 0, 2, 2)[0] == "validation"
    assert repeats("f", 1, 1, 2)[0] == "training" and repeats("f", 1, 0, 2)[0] is None


def test_a_run_config_yaml_is_a_config_wherever_the_run_went(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``fit --config RUN/config.yaml`` after the project moved reads the data beside the run,
    and a path hand-edited in config.yaml is read from the run's folder."""
    project = tmp_path / "project"
    project.mkdir()
    write_ts(project / "train.ts", *signals(seed=1))
    write_ts(project / "test.ts", *signals(seed=2))
    monkeypatch.chdir(project)
    assert main(["fit", "--data", "train.ts", "--out", "run", *FAST]) == 0
    shutil.move(str(project), tmp_path / "moved")
    monkeypatch.chdir(tmp_path)
    assert main(["fit", "--config", "moved/run/config.yaml", "--out", "again", "--quiet"]) == 0
    assert f"data: {tmp_path / 'moved' / 'train.ts'}" in (tmp_path / "again" / "config.yaml"
                                                          ).read_text()
    stored = tmp_path / "moved" / "run" / "config.yaml"
    stored.write_text(re.sub(r"(?m)^test_data: .*$", "test_data: ../test.ts",  # relative to
                             stored.read_text()))  # the run's folder
    assert main(["evaluate", "moved/run"]) == 0
    evaluated = metrics(tmp_path / "moved" / "run" / "evaluation", "evaluation.json")
    assert evaluated["evaluated_on"] == "test" and evaluated["test_samples"] == 24


def test_a_coarse_channel_without_normalization_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    x, y = signals(offset=1e9)
    np.savez(tmp_path / "train.npz", X=x, y=y)
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--normalize", "none",
                 "--out", str(tmp_path / "run"), *FAST[:-1]]) == 0
    out = capsys.readouterr().out
    assert "channel 0: values around 1e+09 vary by about" in out
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--out",
                 str(tmp_path / "normalized"), *FAST[:-1]]) == 0
    assert "float32 model keeps only a few digits" not in capsys.readouterr().out


def test_a_plot_that_cannot_be_drawn_costs_only_the_plot(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Targets near float64's limit: the metrics are written, the figure is a note."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 12, 1))
    y = np.where(x[:, :, 0].mean(1) > 0, 9e307, -9e307)
    np.savez(tmp_path / "train.npz", X=x, y=y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.npz"), "--out", str(run),
                 *FAST[:-1]]) == 0
    out = capsys.readouterr().out
    drawn = {p.name for p in run.glob("*.png")}
    missing = {line.split()[1] for line in out.splitlines() if " not drawn (" in line}
    assert (run / "metrics.json").is_file()
    assert missing == {"predicted_vs_true.png"} and not drawn, out  # said, not a traceback
    assert "\nplots" not in out  # no empty list of figures


def test_long_class_names_are_shortened_in_figures() -> None:
    from timedist.train.plots import _names

    names = _names(["short", "x" * 24, "y" * 25, "\u732b" * 40])
    assert names[:2] == ["short", "x" * 24]
    assert names[2] == "y" * 21 + "..." and len(names[3]) == 24


def test_a_leave_one_out_score_at_chance_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Labels that noise cannot predict: rocket's leave-one-out accuracy (the honest figure
    of a run without test data) at or below chance gets a note; learnable labels do not."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 30, 1))
    labels = np.array(["a", "b"] * 20)
    for name, values in (("noise", x), ("signal", x + (labels == "b")[:, None, None] * 3.0)):
        np.savez(tmp_path / f"{name}.npz", X=values, y=labels)
        assert main(["fit", "--data", str(tmp_path / f"{name}.npz"), "--out",
                     str(tmp_path / name), *FAST[:-1]]) == 0
        said = "leave-one-out accuracy" in capsys.readouterr().out
        loo = metrics(tmp_path / name)["loo_accuracy"]
        assert said == (loo <= 0.5), (name, loo)  # type: ignore[operator]
        assert said == (name == "noise")


def test_a_leave_one_out_regression_no_better_than_the_mean_is_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Targets that noise cannot predict: rocket's leave-one-out loss (standardized, so the
    training mean scores about 1) at or above 1 gets a note; learnable targets do not."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 30, 1))
    targets = rng.normal(size=40)
    for name, values in (("noise", x), ("signal", x + targets[:, None, None] * 3.0)):
        np.savez(tmp_path / f"{name}.npz", X=values, y=targets)
        assert main(["fit", "--data", str(tmp_path / f"{name}.npz"), "--out",
                     str(tmp_path / name), *FAST[:-1]]) == 0
        said = "no better than predicting the training mean (1.0)" in capsys.readouterr().out
        loo = metrics(tmp_path / name)["loo_loss"]
        assert said == (loo >= 1.0), (name, loo)  # type: ignore[operator]
        assert said == (name == "noise")


# -- the seventh probe: copies with less precision, samples without values, a reader that leaves


def _rounded(x: np.ndarray, how: str) -> np.ndarray:
    if how == "float32":
        return x.astype(np.float32).astype(np.float64)
    return np.vectorize(lambda v: float(how % v))(x)


@pytest.mark.parametrize("how", ["float32", "%.6f", "%.6g", "%.7e"])
def test_training_samples_saved_with_less_precision_are_recognized(
        tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The run's training file saved again as float32 or as text of six digits is still its
    training data: evaluate calls the metrics training metrics, as for the file itself."""
    x, y = signals(n=24, seed=4, offset=3.0, amplitude=2.0)
    write_ts(tmp_path / "train.ts", x, y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(tmp_path / "train.ts"), "--out", str(run), *FAST]) == 0
    if how == "float32":
        np.savez(tmp_path / "copy.npz", X=x.astype(np.float32), y=y)
        copy = tmp_path / "copy.npz"
    else:
        copy = write_ts(tmp_path / "copy.ts", _rounded(x, how), y)
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data", str(copy)]) == 0
    out = capsys.readouterr().out
    assert metrics(run / "evaluation", "evaluation.json")["evaluated_on"] == "training", out
    assert "holds only the run's training samples (all 24)" in out


def _keys(values: np.ndarray) -> list[bytes]:
    from timedist.data import sample_keys

    return sample_keys(SequenceDataset([torch.as_tensor(v) for v in values],
                                       torch.zeros(len(values))))


def _alike(scale: float, offset: float, n: int = 500) -> np.ndarray:
    """n samples (40, 2): one shape plus 1% noise, scaled and offset; some values missing."""
    rng = np.random.default_rng(0)
    x = offset + scale * (rng.normal(size=(1, 40, 2)) + 0.01 * rng.normal(size=(n, 40, 2)))
    x[::7, 3, 1] = np.nan
    return x


@pytest.mark.parametrize(("scale", "offset"), [(1.0, 0.0), (1e-6, 0.0), (3.0, 5.0),
                                               (1e12, -5e12)])
def test_sample_keys_match_rounded_copies(scale: float, offset: float) -> None:
    """A sample rounded to float32 or to 7 or 6 significant digits (errors below ~1e-6 of its
    spread) keeps its key, allowing the rare value at a rounding boundary; one value changed
    by a fifth of a typical value (~2% of the sample's norm), or the size changed by 1%,
    changes it."""
    x = _alike(scale, offset)
    original = _keys(x)
    for copy, kept in ((x.astype(np.float32).astype(np.float64), 500),
                       (_rounded(x, "%.7g"), 497), (_rounded(x, "%.6g"), 490)):
        assert sum(a == b for a, b in zip(original, _keys(copy), strict=True)) >= kept
    changed = x.copy()
    changed[:, 5, 0] += 0.2 * scale
    assert not set(_keys(changed)) & set(original)
    assert not set(_keys(x * 1.01)) & set(original)


@pytest.mark.parametrize(("scale", "offset"), [(1.0, 0.0), (1e-6, 0.0), (3.0, 1e4),
                                               (1e12, -5e12), (1.0, 1e8)])
def test_samples_that_differ_by_one_percent_never_share_a_key(scale: float,
                                                              offset: float) -> None:
    """2000 samples of one shape with 1% noise each: 2000 keys, whatever the offset (the
    exact keys, the reference, tell them apart too)."""
    from timedist.data import exact_keys

    x = _alike(scale, offset, n=2000)
    assert len(set(_keys(x))) == 2000
    assert len(set(exact_keys(SequenceDataset([torch.as_tensor(v) for v in x],
                                              torch.zeros(2000))))) == 2000


def test_a_run_of_an_earlier_timedist_still_knows_its_training_samples(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A run that kept exact keys in training_samples.sha256 (earlier timedist) still finds
    its training samples in a file holding exactly them."""
    import hashlib

    from timedist.data import exact_keys

    x, y = signals(n=24, seed=4)
    data = write_ts(tmp_path / "train.ts", x, y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(data), "--out", str(run), *FAST]) == 0
    legacy = b"".join(exact_keys(read_ts(data)))
    (run / "training_samples.keys").unlink()
    (run / "training_samples.sha256").write_bytes(legacy)
    marker = json.loads((run / ".timedist-run.json").read_text())
    del marker["files"]["training_samples.keys"]
    marker["files"]["training_samples.sha256"] = hashlib.sha256(legacy).hexdigest()
    (run / ".timedist-run.json").write_text(json.dumps(marker))
    shutil.copy(data, tmp_path / "same.ts")
    data.unlink()  # only the kept keys can tell
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data", str(tmp_path / "same.ts")]) == 0
    assert "holds only the run's training samples (all 24)" in capsys.readouterr().out


@pytest.mark.parametrize("model", [None, "onnx"])
def test_a_sample_without_values_gets_a_blank_prediction_and_a_note(
        tmp_path: Path, model: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    """predict leaves the row of an all-missing sample blank (the model's answer for zeros
    is no prediction) and says which; the other rows are the predictions of the same samples
    predicted without it."""
    x, y = signals(n=24, seed=4)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(write_ts(tmp_path / "train.ts", x, y)), "--out",
                 str(run), *FAST]) == 0
    flags = []
    if model:
        assert main(["export", str(run), "--out", str(tmp_path / "m.onnx")]) == 0
        flags = ["--model", str(tmp_path / "m.onnx")]
    inputs = x[:5].copy()
    inputs[2] = np.nan
    inputs[4, :10] = np.nan  # partly missing: predicted
    np.savez(tmp_path / "in.npz", X=inputs)
    np.savez(tmp_path / "kept.npz", X=inputs[[0, 1, 3, 4]])
    capsys.readouterr()
    for name in ("in", "kept"):
        assert main(["predict", str(run), "--input", str(tmp_path / f"{name}.npz"),
                     "--output", str(tmp_path / f"{name}.csv"), *flags]) == 0
    out = capsys.readouterr().out
    assert "1 of 5 samples hold no values (every value missing): their predictions are left " \
           "blank (samples 2)" in out
    with open(tmp_path / "in.csv") as handle:
        rows = list(csv.reader(handle))
    with open(tmp_path / "kept.csv") as handle:
        kept = list(csv.reader(handle))
    assert rows[3] == ["2", "", ""]
    assert [r[1:] for r in rows[1:3] + rows[4:]] == [r[1:] for r in kept[1:]]


def test_an_estimator_warns_of_series_without_values() -> None:
    x, y = signals(n=24, seed=4)
    clf = TimeSeriesClassifier(members=1, num_features=168).fit(x, y)
    inputs = x[:4].copy()
    inputs[1] = np.nan
    with pytest.warns(UserWarning, match=r"1 of 4 series hold no values .*\(X\[1\]\)"):
        clf.predict(inputs)


def test_a_reader_that_stops_reading_keeps_the_run(tmp_path: Path) -> None:
    """``timedist fit ... | head -1``: fit finishes and keeps its run; summary too ends well."""
    x, y = signals(n=24, seed=4)
    data = write_ts(tmp_path / "train.ts", x, y)
    command = (f"{sys.executable} -m timedist fit --data {data} --out {tmp_path / 'run'} "
               "--members 1 --num-features 168 | head -1; echo status ${PIPESTATUS[0]}")
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True,
                          timeout=300)
    assert done.stdout.splitlines()[-1] == "status 0", done.stderr
    assert "Broken pipe" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert (tmp_path / "run" / "metrics.json").is_file()
    summary = subprocess.run(["bash", "-c", f"{sys.executable} -m timedist summary td-conv2d "
                              "| head -1; echo status ${PIPESTATUS[0]}"],
                             capture_output=True, text=True, timeout=300)
    assert summary.stdout.splitlines()[-1] == "status 0" and not summary.stderr, summary.stderr


@pytest.mark.parametrize(("command", "advice", "not_advised"), [
    ("fit", "--batch-size", None), ("summary", "a smaller --input-size", "--batch-size"),
    ("explain", "smaller --batch, --seq-len", "--num-features")])
def test_out_of_memory_advice_names_the_commands_own_flags(command: str, advice: str,
                                                           not_advised: str | None) -> None:
    from timedist.cli import error_line

    text = error_line(MemoryError("Unable to allocate 373. GiB"), command)
    assert advice in text and (not_advised is None or not_advised not in text)


def test_a_file_that_cannot_be_written_is_named_not_its_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timedist import _atomic

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted", str(tmp_path / ".p.csv.x.tmp"))

    monkeypatch.setattr(_atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match=r"p\.csv: cannot be written in .* \(Operation "
                                              r"not permitted\)$") as raised:
        _atomic.atomic_write_text(tmp_path / "p.csv", "x")
    assert ".tmp" not in str(raised.value)


@pytest.mark.parametrize("text", ["1e-3", "1E-3", "+2.5e-4", ".001"])
def test_a_float_setting_written_as_yaml_text_is_its_number(tmp_path: Path, text: str) -> None:
    """YAML 1.1 reads 1e-3 (no point) as text; a float setting takes it as the number it
    says; other text is still refused."""
    from timedist.runs.config import ConfigError, load_config_file

    (tmp_path / "c.yaml").write_text(f"data: x.ts\nlr: {text}\n")
    assert resolve_config(load_config_file(tmp_path / "c.yaml")).lr == float(text)
    (tmp_path / "c.yaml").write_text("data: x.ts\nlr: 1e-3x\n")
    with pytest.raises(ConfigError, match=r"expected lr of type float; got '1e-3x'"):
        resolve_config(load_config_file(tmp_path / "c.yaml"))


def test_evaluate_says_which_samples_hold_no_values(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Samples without a single value are scored by the model's answer for zeros: evaluate
    and fit --test-data say so, naming them."""
    x, y = signals(n=24, seed=4)
    test, labels = signals(n=10, seed=5)
    test[[1, 3]] = np.nan
    write_ts(tmp_path / "test.ts", test, labels)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(write_ts(tmp_path / "train.ts", x, y)), "--test-data",
                 str(tmp_path / "test.ts"), "--out", str(run), *FAST[:-1]]) == 0
    note = ("2 of 10 samples hold no values (every value missing): they are scored by the "
            "model's answer for no data (samples 1, 3)")
    assert note in capsys.readouterr().out
    assert main(["evaluate", str(run), "--data", str(tmp_path / "test.ts")]) == 0
    assert note in capsys.readouterr().out


def test_a_constant_series_under_series_normalization_is_no_data(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Normalized per series, a constant series becomes zeros: predict leaves it blank, as a
    series without values (under per-channel normalization its level is data: predicted)."""
    x, y = signals(n=24, seed=4)
    data = write_ts(tmp_path / "train.ts", x, y)
    inputs = x[:3].copy()
    inputs[1] = 3.0
    np.savez(tmp_path / "in.npz", X=inputs)
    for normalize, blank in (("series", True), ("channel", False)):
        run = tmp_path / normalize
        assert main(["fit", "--data", str(data), "--out", str(run), "--normalize", normalize,
                     *FAST]) == 0
        assert main(["predict", str(run), "--input", str(tmp_path / "in.npz"), "--output",
                     str(tmp_path / f"{normalize}.csv")]) == 0
        with open(tmp_path / f"{normalize}.csv") as handle:
            rows = list(csv.reader(handle))
        assert (rows[2][1:] == ["", ""]) == blank, rows
        assert ("every channel constant" in capsys.readouterr().out) == blank


def test_a_run_whose_kept_keys_are_gone_says_it_cannot_tell(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """training_samples.keys removed and the training file moved: evaluate --data says that
    whether the file repeats training samples cannot be told; with the training file back,
    the samples are found by reading it again."""
    x, y = signals(n=24, seed=4)
    data = write_ts(tmp_path / "train.ts", x, y)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(data), "--out", str(run), *FAST]) == 0
    (run / "training_samples.keys").unlink()
    copy = write_ts(tmp_path / "copy.ts", _rounded(x, "%.7g"), y)
    data.rename(tmp_path / "away.ts")
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data", str(copy)]) == 0
    assert "training_samples.keys: missing or changed since timedist wrote it" in (
        capsys.readouterr().out)
    (tmp_path / "away.ts").rename(data)
    assert main(["evaluate", str(run), "--data", str(copy)]) == 0
    assert "holds only the run's training samples (all 24)" in capsys.readouterr().out


def test_a_regressor_loads_only_a_run_of_one_target(tmp_path: Path) -> None:
    """A run fitted on y (N, 2) predicts two values per series: TimeSeriesRegressor (y (N,))
    refuses to load it in one line, rather than failing in predict."""
    x, _ = signals(n=24, seed=4)
    np.savez(tmp_path / "two.npz", X=x, y=np.stack([x[:, :10, 0].mean(1), x[:, 10:, 0].mean(1)],
                                                   1))
    assert main(["fit", "--data", str(tmp_path / "two.npz"), "--out", str(tmp_path / "run"),
                 *FAST]) == 0
    with pytest.raises(ValueError, match=r"run: expected a run with one target per series for "
                                         r"TimeSeriesRegressor .*; this run has 2"):
        TimeSeriesRegressor.load(tmp_path / "run")


def test_early_stopping_says_why_the_run_ended(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--patience without a validation split watches the training loss; when it stops the
    run before --epochs, a note says so (the epochs in metrics.csv are the reference)."""
    x, y = signals(n=24, seed=4)
    run = tmp_path / "run"
    assert main(["fit", "--data", str(write_ts(tmp_path / "t.ts", x, y)), "--model", "fcn",
                 "--epochs", "8", "--batch-size", "8", "--patience", "1", "--lr", "1e-9",
                 "--out", str(run)]) == 0
    out = capsys.readouterr().out
    with open(run / "metrics.csv") as handle:
        epochs = len(list(csv.DictReader(handle)))
    assert epochs < 8
    assert (f"stopped early after epoch {epochs} of 8: train_loss did not improve for "
            "--patience 1 epochs (no validation split: patience watches the training loss)"
            ) in out
