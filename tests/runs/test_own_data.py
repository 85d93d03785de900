"""`timedist fit` on a user's own files: the defaults chosen from the data, the validation
policy, the baseline (against scikit-learn's 1-NN), regression, and config.yaml reproducing
a run."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from helpers import FIXTURES
from scipy.stats import zscore
from sklearn.neighbors import KNeighborsClassifier

from timedist.cli import main
from timedist.data import SequenceDataset, read_ts
from timedist.runs.baselines import (
    mean_predictor_rmse,
    nearest_neighbour_predictions,
    same_samples,
)
from timedist.runs.defaults import MIN_SELECTION, STEPS, rocket_size
from timedist.train import RunConfig, choose_defaults, evaluation, fit, resolve_config


def dataset(n: int, step: tuple[int, ...] = (1,), steps: int = 30, classes: int = 2,
            regression: bool = False, frames_out: bool = False) -> SequenceDataset:
    x = [torch.randn(steps, *step) for _ in range(n)]
    if frames_out:
        return SequenceDataset(x, torch.rand(n, 2, *step))
    if regression:
        return SequenceDataset(x, torch.randn(n))
    return SequenceDataset(x, torch.arange(n) % classes, classes=[str(c) for c in range(classes)])


# --- defaults chosen from the data ---------------------------------------------------------

@pytest.mark.parametrize(("data", "model"), [
    (dataset(50), "rocket"),
    (dataset(50, regression=True), "rocket"),
    (dataset(20, step=(1, 8, 8), steps=4), "cnn-lstm"),
    (dataset(20, step=(1, 8, 8), steps=4, frames_out=True), "conv-lstm-forecaster"),
])
def test_the_model_follows_the_shape_of_the_data(data: SequenceDataset, model: str) -> None:
    config, why = choose_defaults(RunConfig(data="mine.ts"), data)
    assert config.model == model and why[0].startswith(f"model {model}")


def test_rocket_trains_on_everything_and_sizes_its_ensemble() -> None:
    config, why = choose_defaults(RunConfig(data="mine.ts"), dataset(50, steps=150))
    assert (config.val_split, config.members, config.num_features) == (0.0, 3, 10_000)
    assert any("leave-one-out on all 50 samples" in w for w in why)
    assert rocket_size(2_000, 1_500, 10_000) == (1, 5_000)  # large data: fewer features
    assert rocket_size(500, 1_500, 10_000) == (2, 10_000)
    assert rocket_size(1_000, 1_000, 10_000, channels=201) == (1, 7_500)  # channels cost too


@pytest.mark.parametrize(("n", "val_split", "epochs"), [
    (200, 0.0, -(-STEPS // -(-200 // 32))),  # too few to choose a checkpoint on
    (10 * MIN_SELECTION, 0.1, -(-STEPS // -(-900 // 32))),
])
def test_networks_budget_steps_and_validate_only_on_enough_samples(n: int, val_split: float,
                                                                   epochs: int) -> None:
    config, why = choose_defaults(RunConfig(data="mine.ts", model="fcn"), dataset(n))
    assert (config.val_split, config.epochs, config.steps) == (val_split, epochs, STEPS)
    assert any(f"{STEPS} optimizer steps" in w for w in why)


def test_explicit_settings_are_never_changed() -> None:
    given = RunConfig(data="mine.ts", model="fcn", val_split=0.3, epochs=5, members=2)
    config, why = choose_defaults(given, dataset(50))
    assert config == given and why == []
    rocket = RunConfig(data="mine.ts", model="rocket", val_split=0.2, members=1)
    assert choose_defaults(rocket, dataset(50))[0] == rocket


# --- the baseline --------------------------------------------------------------------------

def test_nearest_neighbour_equals_scikit_learn_on_z_normalized_series() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(30, 40)) * rng.uniform(0.5, 5, size=(30, 1)) + 3.0
    test = rng.normal(size=(12, 40))
    labels = np.arange(30) % 3
    as_data = [SequenceDataset([torch.tensor(s, dtype=torch.float32)[:, None] for s in a],
                               torch.tensor(y), classes=["a", "b", "c"])
               for a, y in ((train, labels), (test, np.zeros(12, dtype=np.int64)))]
    knn = KNeighborsClassifier(n_neighbors=1).fit(zscore(train, axis=1), labels)
    for chunk in (1024, 7, 1):  # the training series compared in blocks: the same answer
        ours = nearest_neighbour_predictions(*as_data, chunk=chunk)
        np.testing.assert_array_equal(ours.numpy(), knn.predict(zscore(test, axis=1)))


def test_nearest_neighbour_resamples_other_lengths() -> None:
    rng = np.random.default_rng(1)
    train = [rng.normal(size=20) for _ in range(8)]
    test = [rng.normal(size=n) for n in (11, 20, 35)]
    stretched = [np.interp(np.linspace(0, len(s) - 1, 20), np.arange(len(s)), s) for s in test]
    data = [SequenceDataset([torch.tensor(s, dtype=torch.float32)[:, None] for s in a],
                            torch.arange(len(a)) % 2, classes=["a", "b"]) for a in (train, test)]
    knn = KNeighborsClassifier(n_neighbors=1).fit(zscore(np.stack(train), axis=1),
                                                  np.arange(8) % 2)
    np.testing.assert_array_equal(nearest_neighbour_predictions(*data).numpy(),
                                  knn.predict(zscore(np.stack(stretched), axis=1)))


def test_mean_predictor_rmse() -> None:
    train, test = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 4.0])
    assert mean_predictor_rmse(train, test) == pytest.approx(np.sqrt((4 + 4) / 2))


def test_baselines_on_training_samples_leave_each_sample_out() -> None:
    """On training data no series is its own neighbour nor in its own mean (its identical
    copies neither): against a per-sample loop. Without it 1-NN scores 1.0 there."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(16, 12))
    x[5] = x[3]  # a duplicated sample: both copies are left out for either
    y = rng.integers(0, 2, 16)
    values = rng.normal(size=(16, 2))
    data = SequenceDataset([torch.tensor(s)[:, None] for s in x], torch.tensor(y),
                           classes=["a", "b"])
    shuffled = data.subset(rng.permutation(16).tolist())  # a test file holding them all
    z = zscore(x, axis=1)
    for test in (data, shuffled):
        expected, means = [], []
        for s in test.sequences:
            others = [j for j in range(16) if not np.array_equal(x[j], s[:, 0].numpy())]
            found = min(others, key=lambda j: np.linalg.norm(z[j] - zscore(s[:, 0].numpy())))
            expected.append(y[found])
            means.append(values[others].mean(0))
        for chunk in (1024, 5):
            ours = nearest_neighbour_predictions(data, test, leave_one_out=True, chunk=chunk)
            np.testing.assert_array_equal(ours.numpy(), expected)
        mine = values[[int(np.flatnonzero((x == s[:, 0].numpy()).all(1))[0])
                       for s in test.sequences]]
        rmse = np.sqrt(((mine - np.array(means)) ** 2).mean())
        assert mean_predictor_rmse(torch.tensor(values), torch.tensor(mine),
                                   same_samples(data, test)) == pytest.approx(rmse)


def test_the_baseline_on_many_samples_classifies_a_random_subset_and_says_so(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation, "BASELINE_QUERIES", 25)
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(60, 20)).astype(np.float32), rng.integers(0, 2, 60)
    x[y == 1] += np.linspace(0, 2, 20, dtype=np.float32)
    data = SequenceDataset([torch.tensor(s)[:, None] for s in x], torch.tensor(y),
                           classes=["a", "b"])
    found = evaluation.baseline_metrics("classification", data, data, leave_one_out=True)
    assert found["baseline"].endswith("on 25 of the 60 samples drawn at random")
    # the same 25 each time, and their accuracy is scikit-learn's 1-NN without themselves
    again = evaluation.baseline_metrics("classification", data, data, leave_one_out=True)
    assert again == found
    z = zscore(x, axis=1)
    right = []
    for i in range(60):
        others = np.delete(np.arange(60), i)
        knn = KNeighborsClassifier(1).fit(z[others], y[others])
        right.append(knn.predict(z[i:i + 1])[0] == y[i])
    drawn = torch.randperm(60, generator=torch.Generator().manual_seed(0))[:25].tolist()
    assert found["baseline_accuracy"] == pytest.approx(np.mean([right[i] for i in drawn]))
    small = evaluation.baseline_metrics("classification", data, data.subset(range(20)))
    assert "drawn" not in small["baseline"]


# --- own files through the CLI -------------------------------------------------------------

def write_ts(path: Path, series: list[np.ndarray], labels: list[Any], *,
             regression: bool = False) -> Path:
    """A .ts file in the archive's style: '%' and '#' comments, mixed-case tags."""
    header = ["% written by the test", "@problemName Bumps", "@timeStamps false"]
    if regression:
        header.append("@targetLabel true")
    else:
        header.append("@classLabel true " + " ".join(sorted({str(v) for v in labels})))
    rows = [",".join(f"{v:.5f}" for v in s) + f":{label}" for s, label in zip(series, labels,
                                                                             strict=True)]
    path.write_text("\n".join([*header, "@data", *rows]) + "\n")
    return path


def bumps(n: int, seed: int) -> tuple[list[np.ndarray], list[str]]:
    rng = np.random.default_rng(seed)
    series, labels = [], []
    for i in range(n):
        s = rng.normal(scale=0.3, size=60)
        where = 15 if i % 2 else 40
        s[where : where + 6] += 2.0
        series.append(s)
        labels.append("left" if i % 2 else "right")
    return series, labels


@pytest.fixture(scope="module")
def own_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("own")
    train = write_ts(folder / "bumps_TRAIN.ts", *bumps(30, 0))
    test = write_ts(folder / "bumps_TEST.ts", *bumps(20, 1))
    assert main(["fit", "--data", str(train), "--test-data", str(test),
                 "--out", str(folder / "run"), "--quiet"]) == 0
    return folder / "run", train, test


def test_the_choices_are_stored_and_reported(own_run: tuple[Path, Path, Path],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = own_run[0]
    config = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert config["model"] == "rocket" and config["members"] == 3 and config["val_split"] == 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["model"] == "rocket" and metrics["evaluated_on"] == "test"
    assert metrics["test_accuracy"] >= 0.9 and metrics["loo_accuracy"] >= 0.9
    # the baseline, independently: 1-NN on z-normalized series with scikit-learn
    x_train, y_train = bumps(30, 0)
    x_test, y_test = bumps(20, 1)
    knn = KNeighborsClassifier(n_neighbors=1).fit(zscore(np.stack(x_train), axis=1), y_train)
    expected = float((knn.predict(zscore(np.stack(x_test), axis=1)) == np.array(y_test)).mean())
    assert metrics["baseline_accuracy"] == pytest.approx(expected)
    assert metrics["baseline"] == "1-NN Euclidean, z-normalized series"


def test_config_yaml_reproduces_the_run(own_run: tuple[Path, Path, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    run_dir, _, _ = own_run
    assert main(["fit", "--config", str(run_dir / "config.yaml"), "--out",
                 str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out
    assert "chose" not in printed  # nothing left to choose: the stored config says it all
    first = torch.load(run_dir / "checkpoints" / "best.ckpt", weights_only=True)["state_dict"]
    again = torch.load(tmp_path / "again" / "checkpoints" / "best.ckpt",
                       weights_only=True)["state_dict"]
    assert first.keys() == again.keys()
    assert all(torch.equal(first[k], again[k]) for k in first)
    metrics = [json.loads((d / "metrics.json").read_text()) for d in (run_dir, tmp_path / "again")]
    assert metrics[0]["test_accuracy"] == metrics[1]["test_accuracy"]


def test_printed_choices_and_device(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_ts(tmp_path / "b.ts", *bumps(20, 2))
    assert main(["fit", "--data", str(train), "--out", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out
    assert "chose  model rocket (signals of 1 channel" in out
    assert "chose  3 ensemble members (20 samples x 60 steps)" in out
    assert "device cpu" in out or "device cuda" in out
    assert ("baseline (1-NN Euclidean, z-normalized series, leave-one-out on the training "
            "samples): baseline_accuracy") in out
    assert "note   no test file and no validation split: these metrics are on the training" in out
    # scored on its own samples, 1-NN leaves each out: scikit-learn's second neighbour
    x, y = bumps(20, 2)
    neighbours = KNeighborsClassifier(n_neighbors=2).fit(zscore(np.stack(x), axis=1), y)
    second = neighbours.kneighbors(return_distance=False)[:, 0]  # None: each point left out
    expected = float((np.array(y)[second] == np.array(y)).mean())
    assert json.loads((tmp_path / "r" / "metrics.json").read_text())[
        "baseline_accuracy"] == pytest.approx(expected)


def test_regression_on_own_files(tmp_path: Path) -> None:
    data = read_ts(FIXTURES / "Covid3Month_TRAIN.ts.gz")  # 140 real series, float targets
    series = [s[:, 0].numpy() for s in data.sequences]
    targets = data.targets.tolist()
    train = write_ts(tmp_path / "c_TRAIN.ts", series[:100], targets[:100], regression=True)
    test = write_ts(tmp_path / "c_TEST.ts", series[100:], targets[100:], regression=True)
    result = fit(resolve_config({"data": str(train), "test_data": str(test)}),
                 out=tmp_path / "run", verbose=False)
    assert result is not None
    metrics = result.metrics
    written = np.array([float(f"{t}") for t in targets])
    mean_rmse = float(np.sqrt(((written[100:] - written[:100].mean()) ** 2).mean()))
    assert metrics["baseline_rmse"] == pytest.approx(mean_rmse, rel=1e-4)
    assert metrics["test_rmse"] == pytest.approx(metrics["test_mse"] ** 0.5)
    assert 0 < metrics["test_rmse"] < 2 * mean_rmse and "loo_mae" in metrics


def test_a_network_keeps_its_final_weights_without_enough_validation(tmp_path: Path) -> None:
    train = write_ts(tmp_path / "b.ts", *bumps(40, 3))
    config = resolve_config({"data": str(train), "model": "fcn", "val_split": 0.25,
                             "steps": 12, "batch_size": 10})
    result = fit(config, out=tmp_path / "run", verbose=False)
    assert result is not None and result.metrics["evaluated_on"] == "validation"
    best = torch.load(tmp_path / "run" / "checkpoints" / "best.ckpt", weights_only=True)
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert best["epoch"] == last["epoch"]  # 10 validation samples choose nothing
    assert result.metrics["best_epoch"] == result.metrics["epochs"] == 4


def test_no_gpu_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    train = write_ts(tmp_path / "b.ts", *bumps(10, 4))
    assert main(["fit", "--data", str(train), "--accelerator", "gpu",
                 "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ("timedist fit: error: --accelerator gpu: expected a CUDA GPU; this "
                           "machine has none (use --accelerator auto or cpu)")


def test_a_model_at_chance_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    same = [np.sin(np.linspace(0, 6, 40))] * 40  # identical series: nothing to tell apart
    labels = ["a", "a", "b"] * 13 + ["a"]
    train = write_ts(tmp_path / "n_TRAIN.ts", same[:25], labels[:25])
    test = write_ts(tmp_path / "n_TEST.ts", same[25:], labels[25:])
    assert main(["fit", "--data", str(train), "--test-data", str(test), "--out",
                 str(tmp_path / "r"), "--members", "1"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"is (at|below) chance: always answering the most frequent class scores "
                     r"0\.6667", out), out


def test_runs_of_timedist_0_1_still_load(tmp_path: Path) -> None:
    """A stored config without a model name (timedist 0.1) gets the model it was built with."""
    from timedist.train import evaluate

    train = write_ts(tmp_path / "b.ts", *bumps(12, 6))
    config = resolve_config({"data": str(train), "model": "sequence", "epochs": 1,
                             "hidden_size": 4})
    fit(config, out=tmp_path / "old", verbose=False)
    stored = yaml.safe_load((tmp_path / "old" / "config.yaml").read_text())
    stored.update(model=None, val_split=0.0)
    for key in ("features", "num_features", "members", "normalize", "steps", "ddp_timeout"):
        stored.pop(key)  # settings timedist 0.1 did not have
    (tmp_path / "old" / "config.yaml").write_text(yaml.safe_dump(stored))
    record = json.loads((tmp_path / "old" / "preprocessing.json").read_text())
    for key in ("length", "normalize", "provenance"):  # 0.1 wrote none of these
        record.pop(key)
    (tmp_path / "old" / "preprocessing.json").write_text(json.dumps(record))
    (tmp_path / "old" / ".timedist-run.json").unlink()  # timedist 0.1 kept no marker
    found = evaluate(tmp_path / "old", data=str(train), verbose=False).metrics
    assert found["training_samples"] == 12 and found["evaluated_on"] == "training"


def test_gzipped_files_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "b.ts.gz"
    plain = write_ts(tmp_path / "b.ts", *bumps(12, 7))
    path.write_bytes(gzip.compress(plain.read_bytes()))
    assert len(read_ts(path)) == 12


@pytest.mark.parametrize(("args", "message"), [
    (["--subset", "1", "--val-split", "0.5"],
     r"--val-split 0.5 of 1 samples leaves 0 to train on; expected at least 2"),
    (["--subset", "3", "--val-split", "0.5"],
     r"--val-split 0.5 of 3 samples leaves 1 to train on; expected at least 2"),
    (["--subset", "1"], r"expected at least 2 training samples; got 1 \(--subset\)"),
])
def test_degenerate_training_sets_are_one_line(args: list[str], message: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import re

    train = write_ts(tmp_path / "b.ts", *bumps(12, 8))
    assert main(["fit", "--data", str(train), *args, "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_one_class_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    series, _ = bumps(6, 9)
    train = write_ts(tmp_path / "one.ts", series, ["left"] * 6)
    assert main(["fit", "--data", str(train), "--out", str(tmp_path / "r")]) == 1
    assert "expected at least 2 classes among the training samples; got only 'left'" in (
        capsys.readouterr().err)
