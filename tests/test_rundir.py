"""Run directories: a user's files are never deleted or overwritten, inputs are validated before
anything is removed, one process at a time, and a fit that fails before its first checkpoint
leaves nothing behind. Every refusal is checked against a hash of the folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import snapshot

from timedist.cli import main
from timedist.estimators import TimeSeriesClassifier
from timedist.train import SequenceTask, fit, resolve_config
from timedist.train.rundir import RunDir


def write_ts(path: Path, classes: bool = True, n: int = 16) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        values = rng.normal(size=30) + (2.0 if i % 2 else 0.0)
        label = ("ab"[i % 2]) if classes else f"{values.mean():.3f}"
        rows.append(",".join(f"{v:.4f}" for v in values) + f":{label}")
    header = "@classLabel true a b" if classes else "@targetLabel true"
    path.write_text(f"{header}\n@data\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A finished rocket run at tmp_path/run (classification: it has a confusion matrix)."""
    assert main(["fit", "--data", str(write_ts(tmp_path / "a.ts")), "--out",
                 str(tmp_path / "run"), "--members", "1", "--quiet"]) == 0
    return tmp_path / "run"


@pytest.mark.parametrize(("relative", "written"), [
    ("config.yaml", True), ("metrics.json", True), ("confusion_matrix.png", True),
    (".timedist.lock", True), (".metrics.json.k2j4x.tmp", True),
    ("checkpoints/best.ckpt", True), ("checkpoints/.last.ckpt.abc.tmp", True),
    ("evaluation/evaluation.json", True), ("evaluation/forecast.png", True),
    ("notes.txt", False), ("data.ts", False), ("checkpoints/mine.ckpt", False),
    ("evaluation/learning_curves.png", False), (".config.yaml.tmp.bak", False),
    ("sub/config.yaml", False), ("checkpoints/best.ckpt/x", False),
])
def test_timedist_knows_its_own_files(relative: str, written: bool) -> None:
    assert RunDir(Path("r")).written(Path(relative)) is written


@pytest.mark.parametrize("plant", ["notes.txt", "checkpoints/mine.ckpt", "empty/", "link"])
def test_overwrite_refuses_what_timedist_did_not_write(run: Path, tmp_path: Path, plant: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    if plant.endswith("/"):
        (run / plant).mkdir()
    elif plant == "link":
        (tmp_path / "elsewhere").mkdir()
        (run / "link").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    else:
        (run / plant).write_text("the user's")
    before = snapshot(run)
    assert main(["fit", "--data", str(write_ts(tmp_path / "b.ts")), "--out", str(run),
                 "--overwrite", "--members", "1"]) == 1
    err = capsys.readouterr().err
    assert f"--overwrite replaces only what timedist wrote, and this folder also holds " \
           f"{plant.rstrip('/')}" in err
    assert snapshot(run) == before


def test_a_bad_input_changes_nothing(run: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(run)
    for args in (["--data", str(tmp_path / "typo.ts")],
                 ["--data", str(write_ts(tmp_path / "b.ts")), "--model", "conv-lstm-forecaster"],
                 ["--data", str(write_ts(tmp_path / "b.ts")), "--accelerator", "gpu"]):
        if "gpu" in args and __import__("torch").cuda.is_available():
            continue
        assert main(["fit", *args, "--out", str(run), "--overwrite"]) == 1
        assert "error:" in capsys.readouterr().err
        assert snapshot(run) == before


def test_overwrite_replaces_the_previous_run_entirely(run: Path, tmp_path: Path) -> None:
    assert (run / "confusion_matrix.png").is_file()
    assert main(["fit", "--data", str(write_ts(tmp_path / "r.ts", classes=False)), "--out",
                 str(run), "--overwrite", "--members", "1", "--quiet"]) == 0
    names = {str(p) for p in RunDir(run).files()}
    assert "confusion_matrix.png" not in names  # the classification run's plot is gone
    assert {"config.yaml", "metrics.json", "predicted_vs_true.png",
            "checkpoints/best.ckpt"} <= names
    assert "regression" in (run / "preprocessing.json").read_text()


def test_one_process_at_a_time(run: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from timedist.train.rundir import RunDir\n"
         "with RunDir(Path(sys.argv[1])).locked():\n"
         "    print('held', flush=True); time.sleep(60)", str(run)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        before = snapshot(run)
        assert main(["fit", "--data", str(write_ts(tmp_path / "b.ts")), "--out", str(run),
                     "--overwrite", "--members", "1"]) == 1
        err = capsys.readouterr().err
        assert f"{run}: in use by process {holder.pid} on " in err
        assert "wait for it to end or choose another --out" in err
        assert snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)  # the kernel released the lock with the process
    assert main(["fit", "--data", str(write_ts(tmp_path / "b.ts")), "--out", str(run),
                 "--overwrite", "--members", "1", "--quiet"]) == 0


def test_a_fit_that_fails_before_its_first_checkpoint_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(self: SequenceTask, batch: object, batch_idx: int) -> None:
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(SequenceTask, "training_step", crash)
    config = resolve_config({"data": str(write_ts(tmp_path / "a.ts")), "model": "fcn",
                             "steps": 4})
    with pytest.raises(RuntimeError, match="out of memory, say"):
        fit(config, out=tmp_path / "new", verbose=False)
    assert not (tmp_path / "new").exists()
    (tmp_path / "kept").mkdir()  # an empty folder the user made: kept, left empty
    with pytest.raises(RuntimeError, match="out of memory, say"):
        fit(config, out=tmp_path / "kept", verbose=False)
    assert (tmp_path / "kept").is_dir()
    assert [p.name for p in (tmp_path / "kept").iterdir()] == [".timedist.lock"]


def test_saving_an_estimator_follows_the_same_rules(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    clf = TimeSeriesClassifier(members=1, num_features=168).fit(rng.normal(size=(10, 20)),
                                                                 np.arange(10) % 2)
    saved = clf.save(tmp_path / "model")
    (saved / "README.txt").write_text("mine")
    before = snapshot(saved)
    with pytest.raises(FileExistsError, match=r"overwrite=True replaces only what timedist "
                                              r"wrote, and this folder also holds README.txt"):
        clf.save(saved, overwrite=True)
    assert snapshot(saved) == before
    (saved / "README.txt").unlink()
    assert clf.save(saved, overwrite=True) == saved


class Payload:
    """A class a checkpoint must never make timedist import and build (weights_only)."""


@pytest.mark.parametrize("damage", ["empty", "truncated", "foreign object", "other model"])
def test_a_broken_checkpoint_is_one_line(run: Path, damage: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    best = run / "checkpoints" / "best.ckpt"
    if damage == "empty":
        best.write_bytes(b"")
    elif damage == "truncated":
        best.write_bytes(best.read_bytes()[:2000])
    elif damage == "foreign object":
        torch.save({"state_dict": {}, "payload": Payload()}, best)
    else:
        torch.save({"state_dict": {"model.weight": torch.zeros(3)}}, best)
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"timedist evaluate: error: {best}: ") and "Traceback" not in err
    expected = ("its weights do not fit the model that config.yaml describes"
                if damage == "other model" else "not a readable checkpoint")
    assert expected in err and len(err.strip().splitlines()) == 1


def test_resume_from_a_broken_checkpoint_is_one_line(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "net"
    assert main(["fit", "--data", str(write_ts(tmp_path / "a.ts")), "--model", "fcn",
                 "--epochs", "1", "--batch-size", "8", "--out", str(run), "--quiet"]) == 0
    last = run / "checkpoints" / "last.ckpt"
    last.write_bytes(last.read_bytes()[:5000])
    before = snapshot(run)
    assert main(["fit", "--resume", str(run)]) == 1
    err = capsys.readouterr().err
    assert f"{last}: not a readable checkpoint" in err and "Traceback" not in err
    assert snapshot(run) == before


def test_files_honour_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        assert main(["fit", "--data", str(write_ts(tmp_path / "a.ts")), "--out",
                     str(tmp_path / "run"), "--members", "1", "--quiet"]) == 0
    finally:
        os.umask(previous)
    for name in ("config.yaml", "metrics.json", "checkpoints/best.ckpt"):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o640, name


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r.pop("task") and None, r"expected the key 'task'; it is missing"),
    (lambda r: r.update(task="clustering"), r"expected 'task' one of classification, "),
    (lambda r: r.update(step_shape=[0]), r"expected 'step_shape' as a list of positive integers"),
    (lambda r: r.update(num_outputs="2"), r"expected 'num_outputs' of type int; got '2'"),
    (lambda r: r.update(classes=["a"]), r"expected 'classes' as 2 names; got \['a'\]"),
    (lambda r: r.update(standardization={"mean": [0.0]}), r"expected 'standardization' as "),
    (lambda r: "not json", r"preprocessing.json: not valid JSON"),
])
def test_a_hand_edited_record_is_one_line_naming_the_key(run: Path, edit: object, message: str,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    import json
    import re

    path = run / "preprocessing.json"
    record = json.loads(path.read_text())
    changed = edit(record)  # type: ignore[operator]
    path.write_text(changed if isinstance(changed, str) else json.dumps(record))
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err) and f"{path}" in err and "Traceback" not in err
