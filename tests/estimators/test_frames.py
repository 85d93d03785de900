"""Data frames as the estimators' X: long pandas frames (a (instance, time) MultiIndex, or id
and time columns) and wide ones give the same model and predictions as the (N, T, C) array;
a frame that cannot be series is one line naming the column or series."""

from __future__ import annotations

import numpy as np
import pytest

from timedist.estimators import TimeSeriesClassifier, TimeSeriesRegressor

pd = pytest.importorskip("pandas")
FAST = dict(members=1, num_features=168)


def _data(n: int = 24, steps: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(n, steps, 2)), np.arange(n) % 2
    x[y == 1] += np.linspace(0, 2, steps)[:, None]
    return x, y


def _long(x: np.ndarray, id_name: str = "id", time_name: str = "time") -> object:
    rows = [(f"s{i}", t, *x[i, t]) for i in range(len(x)) for t in range(x.shape[1])]
    return pd.DataFrame(rows, columns=[id_name, time_name, "a", "b"])


def test_a_multiindex_frame_is_the_array() -> None:
    x, y = _data()
    frame = pd.DataFrame(x.reshape(-1, 2), columns=["a", "b"],
                         index=pd.MultiIndex.from_product([range(len(x)), range(x.shape[1])],
                                                          names=["instance", "time"]))
    want = TimeSeriesClassifier(**FAST).fit(x, y).predict_proba(x)
    got = TimeSeriesClassifier(**FAST).fit(frame, y).predict_proba(frame)
    assert np.array_equal(got, want)


@pytest.mark.parametrize(("id_name", "time_name"), [("id", "time"), ("Case_ID", "Timestamp"),
                                                    ("series", "t")])
def test_id_and_time_columns_in_any_row_order(id_name: str, time_name: str) -> None:
    """Rows shuffled: each series is ordered by its time; series keep the order in which they
    first appear (y lists them in that order)."""
    x, y = _data()
    frame = _long(x, id_name, time_name).sample(frac=1.0, random_state=3)
    first = list(dict.fromkeys(frame[id_name]))
    order = [int(name[1:]) for name in first]
    want = TimeSeriesClassifier(**FAST).fit(x[order], y[order]).predict_proba(x[order])
    got = TimeSeriesClassifier(**FAST).fit(frame, y[order]).predict_proba(frame)
    assert np.array_equal(got, want)


def test_series_of_different_lengths_and_a_regressor() -> None:
    x, y = _data()
    frame = _long(x)
    frame = frame[~((frame["id"] == "s0") & (frame["time"] >= 10))]  # s0 has 10 steps
    model = TimeSeriesRegressor(**FAST).fit(frame, y.astype(float))
    assert model.predict(frame).shape == (len(x),)
    ragged = [x[0, :10], *x[1:]]
    want = TimeSeriesRegressor(**FAST).fit(ragged, y.astype(float)).predict(ragged)
    assert np.array_equal(model.predict(frame), want)


def test_a_wide_frame_is_a_table_of_series() -> None:
    x, y = _data()
    wide = pd.DataFrame(x[:, :, 0])
    want = TimeSeriesClassifier(**FAST).fit(x[:, :, 0], y).predict_proba(x[:, :, 0])
    assert np.array_equal(TimeSeriesClassifier(**FAST).fit(wide, y).predict_proba(wide), want)


@pytest.mark.parametrize(("change", "message"), [
    (lambda f: f.assign(a="x"), r"TimeSeriesClassifier: expected numbers in channel column 'a'; "
                                r"got (object|str) values"),
    (lambda f: f.assign(time=0), r"expected each time once per series; series 's0' has a time "
                                 r"twice"),
    (lambda f: f[["id", "time"]], r"expected at least one channel column beside the id and time"),
    (lambda f: f.assign(b=np.inf), r"expected finite values \(NaN for a missing one\)"),
])
def test_a_frame_that_is_not_series_is_one_line(change: object, message: str) -> None:
    x, y = _data()
    with pytest.raises(ValueError, match=message):
        TimeSeriesClassifier(**FAST).fit(change(_long(x)), y)  # type: ignore[operator]


def test_an_index_of_three_levels_is_refused() -> None:
    x, y = _data()
    frame = pd.DataFrame(x.reshape(-1, 2), index=pd.MultiIndex.from_product(
        [[0], range(len(x)), range(x.shape[1])]))
    with pytest.raises(ValueError, match=r"expected a row index of two levels \(instance, "
                                         r"time\) .*; got 3 levels"):
        TimeSeriesClassifier(**FAST).fit(frame, y)


def test_polars_frames() -> None:
    pl = pytest.importorskip("polars")
    x, y = _data()
    frame = pl.DataFrame({c: v.to_numpy() for c, v in _long(x).items()})
    want = TimeSeriesClassifier(**FAST).fit(x, y).predict_proba(x)
    assert np.array_equal(TimeSeriesClassifier(**FAST).fit(frame, y).predict_proba(frame), want)
    wide = pl.DataFrame({f"t{i}": x[:, i, 0] for i in range(x.shape[1])})
    want = TimeSeriesClassifier(**FAST).fit(x[:, :, 0], y).predict_proba(x[:, :, 0])
    assert np.array_equal(TimeSeriesClassifier(**FAST).fit(wide, y).predict_proba(wide), want)
