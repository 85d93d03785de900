"""timedist.estimators: scikit-learn's own estimator checks, input layouts, reproducibility,
pickling, model selection, errors, and save/load through the CLI's run directories."""

from __future__ import annotations

import csv
import json
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from timedist.cli import main
from timedist.data import SequenceDataset, save_npz
from timedist.estimators import TimeSeriesClassifier, TimeSeriesRegressor, _Series
from timedist.runs.config import ConfigError
from timedist.runs.record import RunRecord

SMALL: dict[str, Any] = {"members": 1, "num_features": 840}


@parametrize_with_checks([TimeSeriesClassifier(**SMALL, random_state=0),
                          TimeSeriesRegressor(**SMALL, random_state=0)])
def test_scikit_learn_estimator_checks(estimator: Any, check: Any) -> None:
    """Every check of scikit-learn 1.9 passes (2-D X read as univariate series); none is
    marked as an expected failure."""
    check(estimator)


def shapes(n: int = 40, steps: int = 50, channels: int = 2, seed: int = 0
           ) -> tuple[np.ndarray, np.ndarray]:
    """Two classes told apart by a bump's position: (N, T, C) and string labels."""
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=0.3, size=(n, steps, channels))
    y = np.where(np.arange(n) % 2 == 0, "early", "late")
    for i in range(n):
        centre = int(rng.integers(8, 18)) if y[i] == "early" else int(rng.integers(32, 42))
        X[i, centre - 3 : centre + 3, 0] += 2.0
    return X, y


def test_layouts_agree_and_predictions_are_the_labels() -> None:
    X, y = shapes()
    clf = TimeSeriesClassifier(**SMALL, random_state=0).fit(X[:30], y[:30])
    assert clf.classes_.tolist() == ["early", "late"] and clf.n_features_in_ == 50
    expected = clf.predict(X[30:])
    assert expected.dtype == y.dtype and (expected == y[30:]).mean() >= 0.9
    first = TimeSeriesClassifier(**SMALL, random_state=0, channels_first=True)
    np.testing.assert_array_equal(
        first.fit(X[:30].transpose(0, 2, 1), y[:30]).predict(X[30:].transpose(0, 2, 1)), expected)
    proba = clf.predict_proba(X[30:])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    # a list of (T, C) series: the same model as the array; ints are checked and converted
    listed = TimeSeriesClassifier(**SMALL, random_state=0).fit(list(X[:30]), y[:30])
    np.testing.assert_array_equal(listed.predict_proba(list(X[30:])), proba)
    np.testing.assert_array_equal(listed.predict_proba(list(X[30:].astype(np.float32))),
                                  clf.predict_proba(X[30:].astype(np.float32)))
    integers = np.round(X * 10).astype(np.int64)
    np.testing.assert_array_equal(
        TimeSeriesClassifier(**SMALL, random_state=0).fit(list(integers[:30]), y[:30])
        .predict_proba(list(integers[30:])),
        TimeSeriesClassifier(**SMALL, random_state=0).fit(integers[:30] / 1.0, y[:30])
        .predict_proba(integers[30:] / 1.0))
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], expected)
    univariate = TimeSeriesClassifier(**SMALL, random_state=0).fit(X[:30, :, 0], y[:30])
    np.testing.assert_array_equal(
        univariate.predict(X[30:, :, 0]),
        TimeSeriesClassifier(**SMALL, random_state=0).fit(X[:30, :, :1], y[:30]).predict(
            X[30:, :, :1]))


def test_a_memory_mapped_x_is_read_in_place_and_never_written(tmp_path: Path) -> None:
    """np.load(..., mmap_mode="r") of float32 X: the series are views of the file (no
    float64 copy of the data), the results those of the same X in memory, the file unchanged."""
    X, y = shapes()
    path = tmp_path / "X.npy"
    np.save(path, X.astype(np.float32))
    before = path.read_bytes()
    mapped = np.load(path, mmap_mode="r")
    clf = TimeSeriesClassifier(**SMALL, random_state=0)
    series = _Series(mapped, False, "clf")
    spans = [[int(v, 16) for v in line.split()[0].split("-")]
             for line in Path("/proc/self/maps").read_text().splitlines()
             if line.endswith(str(path))]  # where this process maps the file (Linux)
    assert all(any(lo <= s.data_ptr() < hi for lo, hi in spans) for s in series.sequences)
    expected = TimeSeriesClassifier(**SMALL, random_state=0).fit(
        X[:30].astype(np.float32), y[:30]).predict_proba(X[30:].astype(np.float32))
    np.testing.assert_array_equal(clf.fit(mapped[:30], y[:30]).predict_proba(mapped[30:]),
                                  expected)
    assert path.read_bytes() == before


def test_series_of_unequal_lengths_as_a_list() -> None:
    X, y = shapes(n=30)
    ragged = [x[: 30 + i % 20] for i, x in enumerate(X)]  # (T_i, C), T_i in 30..49
    clf = TimeSeriesClassifier(**SMALL, random_state=0).fit(ragged[:20], y[:20])
    together = clf.predict_proba(ragged[20:])
    alone = np.concatenate([clf.predict_proba([x]) for x in ragged[20:]])
    np.testing.assert_allclose(together, alone, atol=1e-6)  # padding never matters
    assert clf.n_features_in_ == 2  # a list: the channels
    univariate = [x[:, 0] for x in ragged]  # (T_i,) of different lengths
    assert TimeSeriesClassifier(**SMALL).fit(univariate[:20], y[:20]).predict(
        univariate[20:]).shape == (10,)


def test_random_state_reproduces_and_varies() -> None:
    X, y = shapes(n=30, seed=1)
    a = TimeSeriesClassifier(**SMALL, random_state=3).fit(X, y).predict_proba(X)
    b = TimeSeriesClassifier(**SMALL, random_state=3).fit(X, y).predict_proba(X)
    c = TimeSeriesClassifier(**SMALL, random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_pickle_clone_and_parameters() -> None:
    X, y = shapes(n=20)
    clf = TimeSeriesClassifier(**SMALL, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    params = clf.get_params()
    assert params["members"] == 1 and params["model"] is None and "relative" not in params
    assert clone(clf).get_params() == params and not hasattr(clone(clf), "model_")
    assert "relative" in TimeSeriesRegressor().get_params()


def test_model_selection_and_pipelines() -> None:
    X, y = shapes(n=24, channels=1)
    X2 = X[:, :, 0]
    pipe = make_pipeline(FunctionTransformer(lambda a: a * 10.0), TimeSeriesClassifier(**SMALL))
    assert cross_val_score(pipe, X2, y, cv=3).mean() >= 0.8
    search = GridSearchCV(TimeSeriesClassifier(members=1), {"num_features": [168, 840]}, cv=2)
    search.fit(X2, y)
    assert search.best_params_["num_features"] in (168, 840)
    assert search.best_estimator_.predict(X2[:3]).shape == (3,)


def test_regression_in_the_targets_units() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(scale=0.2, size=(80, 40))
    amplitude = rng.uniform(0.5, 3.0, size=80)
    X[:, 15:25] += amplitude[:, None] * np.sin(np.linspace(0, 3 * np.pi, 10))
    y = 1000.0 + 50.0 * amplitude  # far from 0, and not of scale 1
    reg = TimeSeriesRegressor(**SMALL, random_state=0).fit(X[:60], y[:60])
    predicted = reg.predict(X[60:])
    assert predicted.shape == (20,) and abs(predicted.mean() - y[60:].mean()) < 20
    assert reg.score(X[60:], y[60:]) > 0.8  # R^2 against the mean of y
    float_labels = TimeSeriesClassifier(**SMALL)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        float_labels.fit(X, y)


@pytest.mark.parametrize(("X", "y", "message"), [
    (np.zeros((4, 5, 1, 1)), [0, 1, 0, 1], r"expected X of shape \(N, T\) or \(N, T, C\); got "
                                           r"shape \(4, 5, 1, 1\)"),
    ([1.0, 2.0, 3.0], [0, 1, 0], r"got a 1-D list of 3 numbers\. Reshape a single series"),
    (np.zeros((4, 5)), [0, 1, 0], r"Found input variables with inconsistent numbers|one "
                                  r"target per series; got 3 targets for 4 series"),
    (np.full((4, 5), np.inf), [0, 1, 0, 1], r"Input X contains infinity"),
    (np.zeros((4, 5)), [1, 1, 1, 1], r"expected at least 2 classes in y; got 1 class \(1\)"),
    (np.zeros((4, 5)), [0, 1, 0, np.nan], r"expected a label for every series in y; got a "
                                         r"missing value \(nan\) at index 3"),
    (np.zeros((4, 5)), np.array([0, 1, np.nan, 0]), r"got a missing value \(nan\) at index 2"),
    # a missing label of any kind: NaN among text, None, numpy's and pandas' NaT
    (np.zeros((4, 5)), ["a", "b", np.nan, "a"], r"expected a label for every series in y; "
                                                r"got a missing value \(nan\) at index 2"),
    (np.zeros((4, 5)), np.array(["a", None, "b", "a"], dtype=object),
     r"got a missing value \(None\) at index 1"),
    (np.zeros((4, 5)), np.array(["2020-01-01", "NaT", "2021-01-01", "2020-01-01"],
                                dtype="datetime64[D]"),
     r"got a missing value \(NaT: a missing date or duration\) at index 1"),
    (np.zeros((4, 5)), np.array([1, 2, "NaT", 1], dtype="timedelta64[s]"),
     r"got a missing value \(NaT: .* index 2"),
    (np.zeros((4, 5)), [np.datetime64("2020"), np.datetime64("2021"), np.datetime64("2021"),
                        np.datetime64("NaT")], r"got a missing value \(NaT.* at index 3"),
    (np.zeros((4, 5)), pd.Series(pd.to_datetime(["2020", None, "2021", "2021"])),
     r"got a missing value \(NaT.* at index 1"),
    ([np.zeros((3, 2)), np.zeros((4, 3))], [0, 1],
     r"got shape \(4, 3\)|expected every sequence"),
    # a list of series: each checked (a float series without infinities is taken as it is)
    ([np.zeros((3, 2)), np.array([[0.0, np.nan], [np.inf, 2.0]])], [0, 1],
     r"Input X\[1\] contains infinity"),
    ([np.zeros(3, np.float32), np.array([0.0, -np.inf, 1.0, 2.0], np.float32)], [0, 1],
     r"Input X\[1\] contains infinity .*float32"),
    ([np.zeros((3, 0)), np.zeros((4, 0))], [0, 1], r"0 feature\(s\) \(shape=\(3, 0\)\)"),
    ([np.zeros((3, 1)), np.zeros((4, 1), complex)], [0, 1], r"complex values"),
])
def test_bad_input_gets_one_clear_error(X: Any, y: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeSeriesClassifier(**SMALL).fit(X, y)


def test_prediction_input_must_match_fit() -> None:
    X, y = shapes(n=20)
    clf = TimeSeriesClassifier(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match=r"expected series of 2 channels like in fit; got 1"):
        clf.predict(X[:, :, :1])
    with pytest.raises(ValueError, match=r"X has 40 features, but TimeSeriesClassifier is "
                                         r"expecting 50 features as input .*pass a list"):
        clf.predict(X[:, :40])
    assert clf.predict(list(X[:3, :40])).shape == (3,)  # a list: any length


def test_save_is_a_run_directory_for_the_cli(tmp_path: Path) -> None:
    X, y = shapes(n=30)
    labels = np.where(y == "early", 3, 7)  # integer labels survive the round trip
    clf = TimeSeriesClassifier(**SMALL, random_state=0).fit(X[:20], labels[:20])
    run_dir = clf.save(tmp_path / "saved")
    save_npz(SequenceDataset(list(map(_tensor, X[20:])), _labels(labels[20:]), classes=["3", "7"],
                             name="new"), tmp_path / "new.npz")
    assert main(["predict", str(run_dir), "--input", str(tmp_path / "new.npz"),
                 "--output", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["prediction"]) for r in rows] == clf.predict(X[20:]).tolist()
    assert main(["evaluate", str(run_dir), "--data", str(tmp_path / "new.npz")]) == 0
    loaded = TimeSeriesClassifier.load(run_dir)
    np.testing.assert_allclose(loaded.predict_proba(X[20:]), clf.predict_proba(X[20:]))
    assert loaded.classes_.tolist() == [3, 7] and loaded.get_params()["members"] == 1
    with pytest.raises(FileExistsError, match="not empty; pass overwrite=True"):
        clf.save(run_dir)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError, match="not a run timedist can prove it wrote"):
        clf.save(tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="expected a regression run for TimeSeriesRegressor"):
        TimeSeriesRegressor.load(run_dir)


LABELS = {  # labels of every kind an estimator accepts, and one pair of each
    "uint64 past int64": np.array([0, 2**64 - 1], dtype=np.uint64),
    "uint64 beside 2**63": np.array([2**63, 2**63 + 1], dtype=np.uint64),
    "int8": np.array([-3, 4], dtype=np.int8),
    "bool": np.array([True, False]),
    "text": np.array(["cat", "dog"]),
    "text as objects": np.array(["cat", "dog"], dtype=object),
    "dates in ns": np.array(["2020-01-01", "2021-06-01T12:00"], dtype="datetime64[ns]"),
    "days": np.array(["2020-01-01", "2021-06-01"], dtype="datetime64[D]"),
    "durations": np.array([1, 2], dtype="timedelta64[s]"),
    "Python ints as objects": np.array([1, 2**40], dtype=object),
}


@pytest.mark.parametrize("kind", LABELS)
def test_saved_labels_read_back_the_same(tmp_path: Path, kind: str) -> None:
    """classes_ and predictions after save/load: equal values of the same dtype as those of
    the fitted estimator (uint64 past 2**63 came back float64, dates as strings)."""
    X, y = shapes(n=20)
    labels = LABELS[kind][(y == "early").astype(int)]
    clf = TimeSeriesClassifier(**SMALL).fit(X, labels)
    loaded = TimeSeriesClassifier.load(clf.save(tmp_path / "saved"))
    for fitted, again in ((clf.classes_, loaded.classes_), (clf.predict(X), loaded.predict(X))):
        assert again.dtype == fitted.dtype and again.tolist() == fitted.tolist()
    # the class names the CLI writes are the labels as they print (dates: not nanoseconds)
    names = json.loads((tmp_path / "saved" / "preprocessing.json").read_text())["classes"]
    assert names == clf.classes_.astype(str).tolist()
    assert clf.predict(X).dtype == (np.int64 if kind.startswith("Python") else labels.dtype)


def test_a_record_whose_labels_do_not_fit_their_dtype_is_refused(tmp_path: Path) -> None:
    X, y = shapes(n=20)
    run_dir = TimeSeriesClassifier(**SMALL).fit(X, np.where(y == "early", 3, 7)).save(
        tmp_path / "saved")
    record = json.loads((run_dir / "preprocessing.json").read_text())
    assert record["labels"] == [3, 7] and record["label_dtype"] == np.dtype(np.int64).str
    for labels, dtype in (([3, "x"], record["label_dtype"]), ([3, 7], "not a dtype")):
        text = json.dumps({**record, "labels": labels, "label_dtype": dtype})
        with pytest.raises(ConfigError, match=r"p\.json: expected 'labels' of numpy dtype"):
            RunRecord.from_json(text, "p.json")


def test_a_network_trains_through_lightning_in_memory(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    X, y = shapes(n=24)
    clf = TimeSeriesClassifier("fcn", steps=30, batch_size=8, random_state=0).fit(X, y)
    assert clf.config_.model == "fcn" and clf.config_.epochs == 10
    assert clf.predict(X).shape == (24,) and not list(tmp_path.iterdir())  # nothing left


def _tensor(x: np.ndarray) -> Any:
    import torch

    return torch.as_tensor(x, dtype=torch.float32)


def _labels(y: np.ndarray) -> Any:
    import torch

    return torch.as_tensor((y == 7).astype(np.int64))


LIGHT_RUN = """
import sys
import numpy as np
import timedist.estimators as e
imported = {m for m in ("lightning", "matplotlib", "sklearn") if m in sys.modules}
assert not imported, f"imported with the estimators: {imported}"
X = np.random.default_rng(0).normal(size=(20, 30)); X[10:] += np.linspace(0, 2, 30)
y = np.repeat(["a", "b"], 10)
clf = e.TimeSeriesClassifier(members=1, num_features=168, random_state=0).fit(X, y)
again = e.TimeSeriesClassifier.load(clf.save(sys.argv[1]))
assert (again.predict(X) == clf.predict(X)).all() and (clf.predict(X) == y).mean() >= 0.9
imported = {m for m in ("lightning", "matplotlib") if m in sys.modules}
assert not imported, f"a rocket fit, save, load and predict imported {imported}"
"""


def test_the_estimators_import_and_fit_rocket_without_lightning(tmp_path: Path) -> None:
    """A fresh interpreter: importing the estimators loads neither Lightning, matplotlib nor
    scikit-learn; a rocket fit, save, load and predict still without Lightning or
    matplotlib (scikit-learn checks the labels, as in fit)."""
    result = subprocess.run([sys.executable, "-c", LIGHT_RUN, str(tmp_path / "saved")],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
