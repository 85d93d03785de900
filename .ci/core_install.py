"""The core install alone (``pip install timedist``, no extras): the estimators fit, save,
load and predict with the rocket model; the CLI names the extra a network needs.
Run by ``make core`` in a virtual environment of its own (``.venv-core``)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from timedist.estimators import TimeSeriesClassifier, TimeSeriesRegressor


def main() -> None:
    extras = [m for m in ("lightning", "matplotlib") if importlib.util.find_spec(m)]
    assert not extras, f"not a core install: {extras} are installed"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 30))
    X[20:] += np.linspace(0, 2, 30)
    y = np.repeat(["flat", "rising"], 20)
    with tempfile.TemporaryDirectory() as scratch:
        clf = TimeSeriesClassifier(members=1, num_features=168, random_state=0)
        clf.fit(X[::2], y[::2])
        again = TimeSeriesClassifier.load(clf.save(Path(scratch) / "classifier"))
        assert (again.predict(X[1::2]) == clf.predict(X[1::2])).all()
        assert clf.score(X[1::2], y[1::2]) >= 0.9, clf.score(X[1::2], y[1::2])
        reg = TimeSeriesRegressor(members=1, num_features=168).fit(X, X[:, -1] * 2)
        again_reg = TimeSeriesRegressor.load(reg.save(Path(scratch) / "regressor"))
        np.testing.assert_allclose(again_reg.predict(X), reg.predict(X))
        network = subprocess.run(
            [sys.executable, "-m", "timedist", "fit", "--data", "basic-motions", "--model",
             "fcn", "--out", str(Path(scratch) / "run")], capture_output=True, text=True)
        lines = network.stderr.strip().splitlines()
        assert network.returncode != 0 and len(lines) == 1 and "timedist[train]" in lines[0], \
            network.stderr
    print("core install: estimators fit, save, load and predict; a network names the extra")


if __name__ == "__main__":
    main()
