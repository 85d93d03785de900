"""The core install alone (``pip install timedist``, no extras): the estimators fit, save,
load and predict with the rocket model; ``timedist fit/evaluate/predict`` run it on ``.ts``
files (no plots: matplotlib is not there); the CLI names the extra a network or an ONNX
export needs.
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
        folder = Path(scratch)
        for split, rows in (("TRAIN", slice(0, None, 2)), ("TEST", slice(1, None, 2))):
            lines = [f"{','.join(f'{v:.6f}' for v in x)}:{label}"
                     for x, label in zip(X[rows], y[rows], strict=True)]
            (folder / f"toy_{split}.ts").write_text(
                "@problemName toy\n@timeStamps false\n@univariate true\n@classLabel true "
                "flat rising\n@data\n" + "\n".join(lines) + "\n")
        run = str(folder / "cli-run")
        for command in (["fit", "--data", str(folder / "toy_TRAIN.ts"), "--test-data",
                         str(folder / "toy_TEST.ts"), "--members", "1", "--num-features",
                         "168", "--out", run],
                        ["evaluate", run, "--data", str(folder / "toy_TEST.ts")],
                        ["predict", run, "--input", str(folder / "toy_TEST.ts"), "--output",
                         str(folder / "predicted.csv")]):
            done = subprocess.run([sys.executable, "-m", "timedist", *command],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stdout + done.stderr
            said = done.stdout + done.stderr
            if command[0] in ("fit", "evaluate"):  # they draw plots where matplotlib is
                assert "plots skipped: matplotlib is not installed" in said, said
        predicted = (folder / "predicted.csv").read_text().splitlines()
        assert len(predicted) == 1 + 20, predicted[:3]
        onnx = subprocess.run([sys.executable, "-m", "timedist", "export", run],
                              capture_output=True, text=True)
        assert onnx.returncode != 0 and "timedist[export]" in onnx.stderr, onnx.stderr
        network = subprocess.run(
            [sys.executable, "-m", "timedist", "fit", "--data", "basic-motions", "--model",
             "fcn", "--out", str(Path(scratch) / "run")], capture_output=True, text=True)
        lines = network.stderr.strip().splitlines()
        assert network.returncode != 0 and len(lines) == 1 and "timedist[train]" in lines[0], \
            network.stderr
    print("core install: the estimators fit, save, load and predict; timedist fit, evaluate "
          "and predict a rocket run on .ts files; a network and an ONNX export name their extras")


if __name__ == "__main__":
    main()
