"""`timedist.train`: fit/evaluate/predict on small subsets, checked against recomputation.

Every metric a run reports is recomputed here independently (the best checkpoint loaded into a
freshly built model, a plain loop over the data), and every file the run promises is read back.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
import yaml

from timedist.data import load_dataset, pad_collate, save_npz
from timedist.runs.metrics import read_metrics
from timedist.train import (
    ConfigError,
    ModelSpec,
    RunConfig,
    TrainingError,
    build_model,
    evaluate,
    fit,
    predict,
    prepare_data,
    resolve_config,
)

PNG = b"\x89PNG\r\n\x1a\n"


def small(data: str = "japanese-vowels", **settings: Any) -> RunConfig:
    """A quick configuration: a subset, a couple of epochs, a small model."""
    base: dict[str, Any] = {"data": data, "subset": 60, "epochs": 2, "hidden_size": 8,
                            "val_split": 0.1}
    return resolve_config({**base, **settings})


def load_best(run_dir: Path) -> torch.nn.Module:
    """The best checkpoint in a model built from the stored config, independently of fit."""
    config = RunConfig.load(run_dir / "config.yaml")
    stored = json.loads((run_dir / "preprocessing.json").read_text())
    spec = ModelSpec(stored["task"], tuple(stored["step_shape"]), stored["num_outputs"],
                     stored["horizon"])
    model = build_model(config, spec)
    state = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    return model.eval()


def outputs_of(model: torch.nn.Module, dataset: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample by sample, at each sample's own length (no padding at all)."""
    with torch.no_grad():
        outs = [model(x[None]) for x, _ in dataset]
    return torch.cat(outs), torch.stack([torch.as_tensor(y) for _, y in dataset])


@pytest.fixture(scope="module")
def vowels_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "vowels"
    result = fit(small(epochs=3), out=run_dir, verbose=False, progress=False)
    assert result is not None and result.run_dir == run_dir
    return run_dir


# --- configuration -------------------------------------------------------------------------

def test_config_layers_defaults_dataset_file_flags(tmp_path: Path) -> None:
    file = tmp_path / "c.yaml"
    file.write_text("data: japanese-vowels\nepochs: 7\nlr: 0.01\n")
    from timedist.runs.config import DATASET_DEFAULTS, load_config_file

    config = resolve_config(load_config_file(file), {"lr": 0.002})
    assert config.epochs == 7 and config.lr == 0.002  # file over dataset, flag over file
    assert config.hidden_size == DATASET_DEFAULTS["japanese-vowels"]["hidden_size"]
    assert config.dropout == RunConfig.dropout  # untouched: the dataclass default
    (tmp_path / "c.json").write_text(json.dumps({"data": "sunspots", "bidirectional": True}))
    config = resolve_config(load_config_file(tmp_path / "c.json"))
    assert config.bidirectional and config.model == "sequence"
    airline = resolve_config({"data": "airline"})
    model = build_model(airline, ModelSpec("regression", (1,), 1))
    assert airline.relative and getattr(model, "relative", False)  # the dataset's default


@pytest.mark.parametrize(("layer", "message"), [
    ({"epoch": 3}, r"unknown setting 'epoch'; expected some of data, .*epochs"),
    ({"epochs": "3"}, r"expected epochs of type int or null \(chosen from the data\); got '3'"),
    ({"batch_size": "3"}, r"expected batch_size of type int; got '3'"),
    ({"lr": -1.0}, r"expected lr > 0; got -1.0"),
    ({"model": "resnet50"}, r"unknown model 'resnet50'; expected one of rocket, inception, "),
    ({"cell": "rnn"}, r"expected cell one of lstm, gru; got 'rnn'"),
    ({"features": "rocket"}, r"expected features one of minirocket\+hydra, .*; got 'rocket'"),
    ({"members": 0}, r"expected members >= 1; got 0"),
    ({"val_split": 1.0}, r"expected 0 <= val_split < 1; got 1.0"),
    ({"devices": 2, "batch_size": 33}, r"divisible by devices x num_nodes = 2.*got 33"),
])
def test_config_errors_name_the_value(layer: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve_config(layer)


def test_config_file_errors(tmp_path: Path) -> None:
    from timedist.runs.config import load_config_file

    (tmp_path / "c.toml").write_text("")
    with pytest.raises(ConfigError, match=r"c.toml: expected a .yaml, .yml or .json"):
        load_config_file(tmp_path / "c.toml")
    (tmp_path / "c.json").write_text("{oops")
    with pytest.raises(ConfigError, match=r"c.json: not valid JSON"):
        load_config_file(tmp_path / "c.json")
    (tmp_path / "c.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match=r"expected a mapping of settings; got list"):
        load_config_file(tmp_path / "c.yaml")


# --- a whole run -----------------------------------------------------------------------------

def test_run_directory_holds_what_it_promises(vowels_run: Path) -> None:
    config = RunConfig.load(vowels_run / "config.yaml")
    assert config == small(epochs=3)  # the resolved config round-trips
    assert yaml.safe_load((vowels_run / "config.yaml").read_text())["epochs"] == 3
    rows = read_metrics(vowels_run / "metrics.csv")
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert {"train_loss", "val_loss", "val_accuracy", "lr", "seconds"} <= set(rows[0])
    for name in ("best.ckpt", "last.ckpt"):
        assert torch.load(vowels_run / "checkpoints" / name, weights_only=True)["state_dict"]
    assert sorted(p.name for p in (vowels_run / "checkpoints").iterdir()) == [
        "best.ckpt", "last.ckpt"]  # no temporary files, no versioned duplicates
    for name in ("learning_curves.png", "confusion_matrix.png"):
        assert (vowels_run / name).read_bytes()[:8] == PNG
    best = min(rows, key=lambda r: float(r["val_loss"]))
    metrics = json.loads((vowels_run / "metrics.json").read_text())
    assert metrics["best_epoch"] == int(best["epoch"]) + 1 and metrics["epochs"] == 3


def test_reported_accuracy_is_the_best_checkpoint_on_the_test_split(vowels_run: Path) -> None:
    metrics = json.loads((vowels_run / "metrics.json").read_text())
    test = prepare_data(RunConfig.load(vowels_run / "config.yaml")).test
    assert test is not None and metrics["test_samples"] == len(test) == 60
    logits, y = outputs_of(load_best(vowels_run), test)
    assert metrics["test_accuracy"] == pytest.approx(float((logits.argmax(-1) == y).float()
                                                           .mean()))
    assert metrics["test_loss"] == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits, y)), rel=1e-4)


def test_evaluate_repeats_the_test_metrics(vowels_run: Path) -> None:
    result = evaluate(vowels_run, verbose=False)
    stored = json.loads((vowels_run / "metrics.json").read_text())
    assert result.metrics["test_accuracy"] == pytest.approx(stored["test_accuracy"])
    written = json.loads((vowels_run / "evaluation" / "evaluation.json").read_text())
    assert written["test_accuracy"] == pytest.approx(stored["test_accuracy"])


def test_predict_writes_labels_of_the_best_checkpoint(vowels_run: Path, tmp_path: Path) -> None:
    _, test = load_dataset("japanese-vowels")
    raw = test.with_standardization(None).subset(range(12))  # the user's raw file
    save_npz(raw, tmp_path / "in.npz")
    with np.load(tmp_path / "in.npz") as arrays:  # inputs only: no labels needed
        np.savez(tmp_path / "x.npz", X=arrays["X"], lengths=arrays["lengths"])
    predict(vowels_run, str(tmp_path / "x.npz"), str(tmp_path / "out.csv"), verbose=False)
    with open(tmp_path / "out.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    logits, _ = outputs_of(load_best(vowels_run), test.subset(range(12)))  # stored scaling
    assert test.classes is not None
    assert [r["prediction"] for r in rows] == [test.classes[i] for i in logits.argmax(-1)]
    assert [float(r["probability"]) for r in rows] == pytest.approx(
        logits.softmax(-1).max(-1).values.tolist(), abs=1e-4)


@pytest.mark.parametrize("moved", [False, True], ids=["in place", "moved"])
def test_resume_after_sigkill_gives_the_uninterrupted_weights(tmp_path: Path,
                                                              moved: bool) -> None:
    """A run killed (SIGKILL) after epoch 2's checkpoint, resumed, ends where a run that was
    never interrupted ends: same weights, same optimizer state, same metrics rows, the same
    best checkpoint — also when the run folder was moved before the resume (Lightning then
    drops the best score unless told where the folder went)."""
    import shutil
    import subprocess
    import sys
    import warnings

    script = f"""
import os, signal
import lightning.pytorch as pl
from timedist.train import fit, resolve_config

class Kill(pl.Callback):
    def on_train_epoch_start(self, trainer, module):
        if trainer.current_epoch == 2:  # epoch 2's checkpoint is on disk
            os.kill(os.getpid(), signal.SIGKILL)

config = resolve_config({{"data": "japanese-vowels", "subset": 60, "epochs": 4,
                         "hidden_size": 8, "dropout": 0.3, "num_layers": 2, "cell": "lstm",
                         "val_split": 0.1}})
fit(config, out={str(tmp_path / "killed")!r}, verbose=False, progress=False, callbacks=[Kill()])
"""
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    last = torch.load(tmp_path / "killed/checkpoints/last.ckpt", weights_only=False)
    assert last["epoch"] == 1  # killed after the second epoch (0-based 1) was saved
    run = tmp_path / "killed"
    if moved:
        run = tmp_path / "elsewhere" / "killed"
        shutil.move(tmp_path / "killed", run)
    config = RunConfig.load(run / "config.yaml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit(config, resume=run, verbose=False, progress=False)
    assert not [w for w in caught if "dirpath has changed" in str(w.message)]
    fit(config, out=tmp_path / "straight", verbose=False, progress=False)
    for name in ("last", "best"):
        resumed = torch.load(run / f"checkpoints/{name}.ckpt", weights_only=False)
        straight = torch.load(tmp_path / f"straight/checkpoints/{name}.ckpt",
                              weights_only=False)
        assert resumed["epoch"] == straight["epoch"]
        for key, value in straight["state_dict"].items():
            torch.testing.assert_close(resumed["state_dict"][key], value, rtol=0, atol=0)
    assert resumed["epoch"] <= 3
    resumed_rows = read_metrics(run / "metrics.csv")
    straight_rows = read_metrics(tmp_path / "straight" / "metrics.csv")
    assert [r["val_loss"] for r in resumed_rows] == [r["val_loss"] for r in straight_rows]
    # the killed run's first two epochs count in the resumed run's training time
    resumed_metrics = json.loads((run / "metrics.json").read_text())
    assert resumed_metrics["train_seconds"] == round(
        sum(float(r["seconds"]) for r in resumed_rows), 1)
    assert len(resumed_rows) == 4 and float(resumed_rows[0]["seconds"]) > 0


def test_a_kill_while_writing_keeps_the_previous_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    target = tmp_path / "last.ckpt"
    torch.save({"epoch": 1}, target)
    script = f"""
import os, signal
from timedist._atomic import atomic_write
def write(handle):
    handle.write(b"half a checkpoint")
    handle.flush()
    os.kill(os.getpid(), signal.SIGKILL)
atomic_write({str(target)!r}, write)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True)
    assert result.returncode == -9
    assert torch.load(target, weights_only=True) == {"epoch": 1}


def test_atomic_write_cleans_up_after_an_error(tmp_path: Path) -> None:
    from timedist._atomic import atomic_write

    def fail(handle: Any) -> None:
        handle.write(b"partial")
        raise OSError("disk full")

    (tmp_path / "f").write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        atomic_write(tmp_path / "f", fail)
    assert (tmp_path / "f").read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


def test_nan_loss_stops_with_a_message_and_keeps_the_last_good_checkpoint(
    tmp_path: Path,
) -> None:
    class Poison(pl.Callback):
        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            if trainer.current_epoch == 2:
                with torch.no_grad():
                    next(module.parameters()).fill_(math.nan)

    with pytest.raises(TrainingError, match=r"loss became nan at epoch 3, batch 1; training "
                       r"stopped, the last good checkpoint is .*last.ckpt \(epoch 2\)\. Try a "
                       r"lower --lr"):
        fit(small(epochs=4), out=tmp_path / "run", verbose=False, progress=False,
            callbacks=[Poison()])
    last = torch.load(tmp_path / "run/checkpoints/last.ckpt", weights_only=False)
    assert last["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in last["state_dict"].values())


# --- tasks and data ----------------------------------------------------------------------------

def test_own_npz_files_regression_in_the_datas_units(tmp_path: Path) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(80, 10, 3, generator=g) * 5 + 20
    y = 100 + 10 * x[:, :, 0].mean(1, keepdim=True)  # (N, 1): in the data's own units
    for name, part in (("train", slice(0, 60)), ("test", slice(60, 80))):
        np.savez(tmp_path / f"{name}.npz", X=x[part].numpy(), y=y[part].numpy())
    result = fit(resolve_config({"data": str(tmp_path / "train.npz"),
                                 "test_data": str(tmp_path / "test.npz"), "epochs": 2,
                                 "model": "sequence", "hidden_size": 8}),
                 out=tmp_path / "run", verbose=False, progress=False)
    assert result is not None
    stored = json.loads((tmp_path / "run" / "preprocessing.json").read_text())
    assert stored["task"] == "regression"
    mean, std = torch.tensor(stored["standardization"]["mean"]), torch.tensor(
        stored["standardization"]["std"])
    t_mean, t_std = (torch.tensor(stored["target_scale"][k]) for k in ("mean", "std"))
    assert mean.tolist() == pytest.approx([20.0] * 3, abs=1.0)  # fitted on the training part
    assert std.tolist() == pytest.approx([5.0] * 3, abs=1.0)
    model = load_best(tmp_path / "run")
    with torch.no_grad():
        pred = model((x[60:] - mean.view(1, 1, 3)) / std.view(1, 1, 3)) * t_std + t_mean
    assert result.metrics["test_mse"] == pytest.approx(float(((pred - y[60:]) ** 2).mean()),
                                                       rel=1e-4)
    assert result.metrics["test_mae"] == pytest.approx(float((pred - y[60:]).abs().mean()),
                                                       rel=1e-4)
    assert (tmp_path / "run" / "predicted_vs_true.png").read_bytes()[:8] == PNG
    predict(tmp_path / "run", str(tmp_path / "test.npz"), str(tmp_path / "p.csv"),
            verbose=False)
    with open(tmp_path / "p.csv", newline="") as handle:
        values = [float(r["prediction"]) for r in csv.DictReader(handle)]
    assert values == pytest.approx(pred[:, 0].tolist(), rel=1e-4)


def test_sunspots_reports_mase_against_the_naive_forecast(tmp_path: Path) -> None:
    result = fit(small("sunspots", subset=0, epochs=1), out=tmp_path / "run", verbose=False,
                 progress=False)
    assert result is not None
    prepared = prepare_data(small("sunspots", subset=0))
    scale = prepared.train.target_scale
    assert scale is not None and prepared.test is not None

    def raw(v: torch.Tensor) -> torch.Tensor:
        return v * scale.std + scale.mean

    train_naive = torch.stack([raw(s[-1]) for s in prepared.train.sequences])
    train_y = raw(prepared.train.targets)
    denominator = float((train_y - train_naive).abs().mean())
    pred, y = outputs_of(load_best(tmp_path / "run"), prepared.test)
    mae = float((raw(pred) - raw(y)).abs().mean())
    assert result.metrics["test_mae"] == pytest.approx(mae, rel=1e-4)
    assert result.metrics["test_mase"] == pytest.approx(mae / denominator, rel=1e-4)
    test_naive = torch.stack([raw(s[-1]) for s in prepared.test.sequences])
    assert result.metrics["naive_mae"] == pytest.approx(
        float((test_naive - raw(y)).abs().mean()), rel=1e-4)


def test_frames_forecast_with_the_copy_last_frame_baseline(tmp_path: Path) -> None:
    result = fit(small("moving-digits-forecast", subset=16, epochs=1, hidden_size=4,
                       batch_size=8), out=tmp_path / "run", verbose=False, progress=False)
    assert result is not None
    prepared = prepare_data(small("moving-digits-forecast", subset=16))
    assert prepared.test is not None
    x = torch.stack(prepared.test.sequences)
    y = prepared.test.targets
    copy_last = x[:, -1:].expand_as(y)
    assert result.metrics["copy_last_frame_mse"] == pytest.approx(
        float(((copy_last - y) ** 2).mean()), rel=1e-5)
    assert result.metrics["blank_frame_mse"] == pytest.approx(float((y**2).mean()), rel=1e-5)
    with torch.no_grad():
        pred = load_best(tmp_path / "run")(x)
    assert result.metrics["test_mse"] == pytest.approx(float(((pred - y) ** 2).mean()), rel=1e-4)
    assert (tmp_path / "run" / "forecast.png").read_bytes()[:8] == PNG
    np.savez(tmp_path / "clips.npz", X=x[:3].numpy())
    predict(tmp_path / "run", str(tmp_path / "clips.npz"), str(tmp_path / "future.npz"),
            verbose=False)
    with np.load(tmp_path / "future.npz") as arrays:
        torch.testing.assert_close(torch.from_numpy(arrays["y_pred"]), pred[:3])


def test_cnn_lstm_over_subsequences_and_frames(tmp_path: Path) -> None:
    result = fit(small("basic-motions", subset=16, epochs=1, batch_size=8), out=tmp_path / "a",
                 verbose=False, progress=False)
    assert result is not None and result.metrics["test_samples"] == 16
    assert type(load_best(tmp_path / "a")).__name__ == "CNNLSTM"
    result = fit(small("moving-digits", subset=24, epochs=1, batch_size=8), out=tmp_path / "b",
                 verbose=False, progress=False)
    assert result is not None and (tmp_path / "b" / "examples.png").read_bytes()[:8] == PNG


def test_shuffled_frames_keep_each_samples_steps(tmp_path: Path) -> None:
    plain = prepare_data(small("japanese-vowels", val_split=0.0))
    shuffled = prepare_data(small("japanese-vowels", val_split=0.0, shuffle_frames=True))
    for a, b in zip(plain.train.sequences, shuffled.train.sequences, strict=True):
        assert not torch.equal(a, b) or len(a) == 1
        torch.testing.assert_close(a.sort(0).values, b.sort(0).values)  # same steps, reordered
    assert torch.equal(plain.train.targets, shuffled.train.targets)


def test_own_test_labels_are_aligned_to_the_training_classes(tmp_path: Path) -> None:
    x = torch.randn(30, 6, 2)
    names = np.array(["walk", "run", "sit"] * 10)
    np.savez(tmp_path / "train.npz", X=x.numpy(), y=names)
    np.savez(tmp_path / "test.npz", X=x[:6].numpy(), y=names[[1, 1, 2, 2, 1, 2]])
    prepared = prepare_data(resolve_config({"data": str(tmp_path / "train.npz"),
                                            "test_data": str(tmp_path / "test.npz")}))
    assert prepared.train.classes == ["run", "sit", "walk"] and prepared.test is not None
    assert [prepared.train.classes[i] for i in prepared.test.targets] == list(
        names[[1, 1, 2, 2, 1, 2]])
    np.savez(tmp_path / "bad.npz", X=x[:2].numpy(), y=np.array(["swim", "run"]))
    with pytest.raises(ConfigError, match=r"expected labels among the training classes .*"
                       r"got \['swim'\]"):
        prepare_data(resolve_config({"data": str(tmp_path / "train.npz"),
                                     "test_data": str(tmp_path / "bad.npz")}))


def test_pad_collate_batches_reach_the_model_with_lengths() -> None:
    """The module passes lengths only when a batch is padded (the layers' fast path)."""
    from timedist.train import SequenceTask

    seen: list[Any] = []

    class Spy(torch.nn.Module):
        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
            seen.append(lengths)
            return x.sum(1)

    task = SequenceTask(Spy(), "regression")
    batch = pad_collate([(torch.ones(3, 2), torch.zeros(2)), (torch.ones(1, 2), torch.zeros(2))])
    task(batch.x, batch.lengths)
    full = pad_collate([(torch.ones(3, 2), torch.zeros(2))] * 2)
    task(full.x, full.lengths)
    assert seen[0].tolist() == [3, 1] and seen[1] is None


def test_ctrl_c_stops_gracefully_and_says_how_to_resume(tmp_path: Path) -> None:
    import signal

    class CtrlC(pl.Callback):
        def on_train_epoch_start(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
            if trainer.current_epoch == 1:
                raise KeyboardInterrupt

    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match=r"continue with: timedist fit --resume .*run"):
        fit(small(epochs=3), out=tmp_path / "run", verbose=False, progress=False,
            callbacks=[CtrlC()])
    assert signal.getsignal(signal.SIGINT) is handler  # Ctrl-C works again afterwards
    assert torch.load(tmp_path / "run/checkpoints/last.ckpt", weights_only=False)["epoch"] == 0
