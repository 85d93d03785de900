"""Run directories: a folder is timedist's only by proof (its marker lists every file timedist
wrote, with the bytes' hash), no link inside a run is ever followed, inputs are validated and
every existence check repeated under the lock before anything is removed, writers exclude
each other and readers, and a fit that fails before its first checkpoint leaves nothing
behind. Every refusal is checked against a hash of the folder."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import replace_with_link, snapshot

from timedist.cli import main
from timedist.estimators import TimeSeriesClassifier
from timedist.runs.marker import MARKER
from timedist.runs.rundir import RunDir, layout_file
from timedist.train import SequenceTask, fit, resolve_config

FAST = ["--members", "1", "--num-features", "168", "--quiet"]


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


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template")
    assert main(["fit", "--data", str(write_ts(root / "a.ts")), "--out", str(root / "run"),
                 *FAST]) == 0
    return root


@pytest.fixture
def run(template: Path, tmp_path: Path) -> Path:
    """A finished rocket run at tmp_path/run (classification: it has a confusion matrix),
    fitted on tmp_path/a.ts (a copy of one fitted once per module)."""
    shutil.copy(template / "a.ts", tmp_path / "a.ts")
    shutil.copytree(template / "run", tmp_path / "run", symlinks=True)
    return tmp_path / "run"


def refit(run: Path, tmp_path: Path, *extra: str) -> int:
    return main(["fit", "--data", str(tmp_path / "a.ts"), "--out", str(run), "--overwrite",
                 *FAST, *extra])


@pytest.mark.parametrize(("relative", "layout"), [
    ("config.yaml", True), ("metrics.json", True), ("confusion_matrix.png", True),
    ("checkpoints/best.ckpt", True), ("evaluation/evaluation.json", True),
    ("evaluation/forecast.png", True), ("model.onnx", True), ("model-step.pt2", True),
    (".timedist.lock", False), (MARKER, False), ("notes.txt", False), ("data.ts", False),
    ("checkpoints/mine.ckpt", False), ("evaluation/learning_curves.png", False),
    ("sub/config.yaml", False), ("checkpoints/best.ckpt/x", False), ("../config.yaml", False),
])
def test_the_layout_names_every_file_timedist_writes(relative: str, layout: bool) -> None:
    assert layout_file(Path(relative)) is layout


def test_the_marker_lists_every_file_with_its_hash(run: Path) -> None:
    marker = json.loads((run / MARKER).read_text())
    assert marker["state"] == "complete" and re.fullmatch(r"[0-9a-f]{32}", marker["id"])
    written = {str(p) for p in RunDir(run).files()} - {MARKER, ".timedist.lock"}
    assert set(marker["files"]) == written
    import hashlib

    for name, digest in marker["files"].items():
        assert hashlib.sha256((run / name).read_bytes()).hexdigest() == digest, name
    source = marker["sources"]["data"]
    assert Path(source["path"]).is_absolute() and source["relative"] == "../a.ts"
    assert marker["classes"] == ["a", "b"]


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
    before = snapshot(tmp_path)
    assert refit(run, tmp_path) == 1
    err = capsys.readouterr().err
    assert "--overwrite replaces only what timedist wrote, and this folder also holds " \
           f"{plant.rstrip('/')}" in err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("name", ["config.yaml", "metrics.csv", "confusion_matrix.png",
                                  "checkpoints/best.ckpt"])
def test_a_file_changed_since_timedist_wrote_it_is_the_users(run: Path, tmp_path: Path,
                                                             name: str,
                                                             capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    (run / name).write_bytes(b"the user's own version")
    before = snapshot(tmp_path)
    assert refit(run, tmp_path) == 1
    assert f"also holds {name} (changed since timedist wrote it)" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("files", [
    {"config.yaml": "data: mine.ts\n", "metrics.csv": "epoch,loss\n1,0.5\n"},
    {"config.yaml": "x", "preprocessing.json": "{}", "learning_curves.png": "png"},
    {"checkpoints/best.ckpt": "mine", "metrics.json": "{}"},
])
def test_a_folder_without_the_marker_is_never_replaced(tmp_path: Path, files: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    folder = tmp_path / "myproject"
    data = write_ts(tmp_path / "a.ts")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    before = snapshot(tmp_path)
    assert main(["fit", "--data", str(data), "--out", str(folder), "--overwrite", *FAST]) == 1
    assert "not a run timedist can prove it wrote (no .timedist-run.json" in \
        capsys.readouterr().err
    assert snapshot(tmp_path) == before
    clf = TimeSeriesClassifier(members=1, num_features=168).fit(
        np.random.default_rng(0).normal(size=(8, 20)), np.arange(8) % 2)
    with pytest.raises(FileExistsError, match="not a run timedist can prove it wrote"):
        clf.save(folder, overwrite=True)
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("forged", [
    {"format": 1, "id": None, "state": "complete", "files": {"../a.ts": None}},
    {"format": 1, "id": None, "state": "complete", "files": {"/etc/passwd": None}},
    {"format": 1, "id": None, "state": "complete", "files": {"notes.txt": None}},
    {"format": 1, "id": "x", "state": "complete", "files": {}},
    {"format": 2, "files": {}},
    "not json",
])
def test_a_forged_marker_cannot_claim_other_files(run: Path, tmp_path: Path, forged: object,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (run / "notes.txt").write_text("the user's")
    (run / MARKER).write_text(forged if isinstance(forged, str) else json.dumps(forged))
    before = snapshot(tmp_path)
    assert refit(run, tmp_path) == 1
    assert "not a marker timedist wrote" in capsys.readouterr().err
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(("link", "command"), [
    (".timedist.lock", ["fit", "--resume", "{run}"]),
    (".timedist.lock", ["evaluate", "{run}"]),
    ("evaluation", ["evaluate", "{run}"]),
    ("config.yaml", ["predict", "{run}", "--input", "{tmp}/a.ts", "--output", "{tmp}/p.csv"]),
    ("checkpoints", ["export", "{run}"]),
    ("preprocessing.json", ["evaluate", "{run}"]),
    (MARKER, ["fit", "--data", "{tmp}/a.ts", "--out", "{run}", "--overwrite"]),
])
def test_no_link_inside_a_run_is_followed(run: Path, tmp_path: Path, link: str,
                                          command: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    replace_with_link(run / link, tmp_path / "victim")
    before = snapshot(tmp_path)
    args = [a.format(run=run, tmp=tmp_path) for a in command]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "is a link" in err and "never follows links inside a run folder" in err, err
    assert snapshot(tmp_path) == before


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
    assert main(["evaluate", str(run)]) == 0
    assert (run / "confusion_matrix.png").is_file()
    old_id = json.loads((run / MARKER).read_text())["id"]
    assert main(["fit", "--data", str(write_ts(tmp_path / "r.ts", classes=False)), "--out",
                 str(run), "--overwrite", *FAST]) == 0
    names = {str(p) for p in RunDir(run).files()}
    assert "confusion_matrix.png" not in names  # the classification run's plot is gone
    assert "evaluation/evaluation.json" not in names  # and its evaluation
    assert {"config.yaml", "metrics.json", "predicted_vs_true.png",
            "checkpoints/best.ckpt"} <= names
    assert "regression" in (run / "preprocessing.json").read_text()
    assert json.loads((run / MARKER).read_text())["id"] != old_id


def hold(run: Path, shared: bool) -> subprocess.Popen[str]:
    """Another process holding ``run`` (a writer's session, or a reader)."""
    how = "reading()" if shared else "session()"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from timedist.runs.rundir import RunDir\n"
         f"with RunDir(Path(sys.argv[1])).{how}:\n"
         "    print('held', flush=True); time.sleep(60)", str(run)],
        stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    return holder


def test_one_writer_at_a_time_and_no_reader_while_it_writes(run: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]
                                                            ) -> None:
    holder = hold(run, shared=False)
    try:
        before = snapshot(run)
        assert refit(run, tmp_path) == 1
        err = capsys.readouterr().err
        assert f"{run}: in use by process {holder.pid} on " in err
        assert "; wait for it to end" in err
        for reader in (["evaluate", str(run)], ["export", str(run)],
                       ["predict", str(run), "--input", str(tmp_path / "a.ts"), "--output",
                        str(tmp_path / "p.csv")]):
            assert main(reader) == 1
            assert f"in use by process {holder.pid}" in capsys.readouterr().err
        assert snapshot(run) == before and not (tmp_path / "p.csv").exists()
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)  # the kernel released the lock with the process
    assert refit(run, tmp_path) == 0


def test_readers_share_and_keep_writers_out(run: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    holder = hold(run, shared=True)
    try:
        assert main(["predict", str(run), "--input", str(tmp_path / "a.ts"), "--output",
                     str(tmp_path / "p.csv")]) == 0  # two readers at once
        before = snapshot(run)
        assert refit(run, tmp_path) == 1
        assert "in use by another timedist process reading it" in capsys.readouterr().err
        assert snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()


def test_the_run_is_checked_again_under_the_lock(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A fit that passed its first check while the folder was empty, but finds another
    finished run there once it holds the folder, refuses and leaves that run alone."""
    from timedist.train import run as run_module

    data = write_ts(tmp_path / "a.ts")
    target = tmp_path / "run"
    prepare = run_module.prepare_data

    def meanwhile(config: object) -> object:  # another fit finishes while this one loads
        monkeypatch.setattr(run_module, "prepare_data", prepare)
        assert main(["fit", "--data", str(data), "--out", str(target), *FAST]) == 0
        return prepare(config)  # type: ignore[arg-type]

    monkeypatch.setattr(run_module, "prepare_data", meanwhile)
    config = resolve_config({"data": str(data), "members": 1, "num_features": 168})
    with pytest.raises(ValueError, match="the run directory exists \\(it appeared while"):
        fit(config, out=target, verbose=False)
    assert json.loads((target / MARKER).read_text())["state"] == "complete"


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
    assert json.loads((saved / MARKER).read_text())["state"] == "complete"
    (saved / "README.txt").write_text("mine")
    before = snapshot(saved)
    with pytest.raises(FileExistsError, match=r"overwrite=True replaces only what timedist "
                                              r"wrote, and this folder also holds README.txt"):
        clf.save(saved, overwrite=True)
    assert snapshot(saved) == before
    (saved / "README.txt").unlink()
    assert clf.save(saved, overwrite=True) == saved


def kill_before_the_end(run: Path) -> None:
    """What a killed fit leaves: checkpoints, but no metrics.json and a marker still
    'training'."""
    marker = json.loads((run / MARKER).read_text())
    marker["state"] = "training"
    (run / MARKER).write_text(json.dumps(marker))
    (run / "metrics.json").unlink()


@pytest.mark.parametrize("command", [
    ["evaluate", "{run}"], ["export", "{run}"],
    ["predict", "{run}", "--input", "{tmp}/a.ts", "--output", "{tmp}/p.csv"]])
def test_an_unfinished_run_is_used_only_when_asked(run: Path, tmp_path: Path,
                                                   command: list[str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    kill_before_the_end(run)
    args = [a.format(run=run, tmp=tmp_path) for a in command]
    before = snapshot(tmp_path)
    assert main(args) == 1
    assert "the run has not finished" in capsys.readouterr().err
    assert snapshot(tmp_path) == before
    if command[0] != "export":  # export's ONNX check takes a minute: covered by test_deploy
        assert main([*args, "--unfinished"]) == 0
    with pytest.raises(ValueError, match="the run has not finished"):
        TimeSeriesClassifier.load(run)
    assert TimeSeriesClassifier.load(run, unfinished=True).classes_.tolist() == ["a", "b"]


def test_a_broken_checkpoint_is_one_line(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import torch

    best = run / "checkpoints" / "best.ckpt"
    for damage in ("empty", "truncated", "foreign object", "other model"):
        if damage == "empty":
            best.write_bytes(b"")
        elif damage == "truncated":
            best.write_bytes(best.read_bytes()[:2000] if best.stat().st_size else b"x")
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


class Payload:
    """A class a checkpoint must never make timedist import and build (weights_only)."""


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
                     str(tmp_path / "run"), *FAST]) == 0
    finally:
        os.umask(previous)
    for name in ("config.yaml", "metrics.json", "checkpoints/best.ckpt", MARKER):
        assert (tmp_path / "run" / name).stat().st_mode & 0o777 == 0o640, name


@pytest.mark.parametrize(("edit", "message"), [
    (lambda r: r.pop("task") and None, r"expected the key 'task'; it is missing"),
    (lambda r: r.update(task="clustering"), r"expected 'task' one of classification, "),
    (lambda r: r.update(step_shape=[0]), r"expected 'step_shape' as a list of positive integers"),
    (lambda r: r.update(num_outputs="2"), r"expected 'num_outputs' of type int; got '2'"),
    (lambda r: r.update(classes=["a"]), r"expected 'classes' as 2 distinct names; got \['a'\]"),
    (lambda r: r.update(classes=["a", "a"]), r"expected 'classes' as 2 distinct names"),
    (lambda r: r.update(classes=None), r"expected 'classes' as a list for a classification"),
    (lambda r: r.update(standardization={"mean": [0.0]}), r"expected 'standardization' as "),
    (lambda r: r.update(standardization={"mean": [0.0], "std": [0.0]}),
     r"expected 'standardization' with finite means and stds > 0"),
    (lambda r: r.update(standardization={"mean": [0.0, 1.0], "std": [1.0, 1.0]}),
     r"expected 'standardization' with 1 means and stds \(one per channel\); got 2 and 2"),
    (lambda r: r.update(labels=["a"]), r"expected 'labels' as 2 values, one per class"),
    (lambda r: r.update(normalize="minmax"), r"expected 'normalize' one of channel"),
    (lambda r: "not json", r"preprocessing.json: not valid JSON"),
])
def test_a_hand_edited_record_is_one_line_naming_the_key(run: Path, edit: object, message: str,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    path = run / "preprocessing.json"
    record = json.loads(path.read_text())
    changed = edit(record)  # type: ignore[operator]
    path.write_text(changed if isinstance(changed, str) else json.dumps(record))
    marker = json.loads((run / MARKER).read_text())
    assert main(["evaluate", str(run)]) == 1  # the marker knows the record was changed
    assert "preprocessing.json: changed after timedist wrote it" in capsys.readouterr().err
    marker["files"]["preprocessing.json"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (run / MARKER).write_text(json.dumps(marker))  # proven, yet invalid: validated all the same
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err
    assert re.search(message, err) and f"{path}" in err and "Traceback" not in err, err


def test_a_checkpoint_from_another_run_is_not_this_runs(run: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """Same architecture, valid file, other weights: the marker's hash says it is not the
    checkpoint this run wrote (changed after timedist wrote it)."""
    other = tmp_path / "other"
    assert main(["fit", "--data", str(tmp_path / "a.ts"), "--out", str(other), "--seed", "1",
                 *FAST]) == 0
    (run / "checkpoints" / "best.ckpt").write_bytes(
        (other / "checkpoints" / "best.ckpt").read_bytes())
    before = snapshot(tmp_path)
    for command in (["evaluate", str(run)], ["predict", str(run), "--input",
                                             str(tmp_path / "a.ts"), "--output",
                                             str(tmp_path / "p.csv")]):
        assert main(command) == 1
        assert "best.ckpt: changed after timedist wrote it (it no longer matches the run" in \
            capsys.readouterr().err
    assert snapshot(tmp_path) == before
