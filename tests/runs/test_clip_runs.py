"""Own videos end to end (issue 15): ``timedist fit --data FOLDER``, evaluate, predict (torch
and ONNX), bad clips, val/ folders, manifests, resume. The clips are H.264 files written in
tmp_path with PyAV: a bright square moving along the top or the bottom of the frame (two
classes a CNN-LSTM learns in a few dozen steps)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from helpers import frames, snapshot, write_video

from timedist.cli import main
from timedist.train import RunConfig, fit, load_run

pytest.importorskip("av")

ROWS = {"top": 2, "bottom": 22}  # the square's row in a 32x32 frame


def write_folder(root: Path, per_class: dict[str, int], seed: int = 0) -> Path:
    """``root/<label>/<i>.mp4``: 8 frames of 32x32 at 10 fps each."""
    for label, count in per_class.items():
        for i in range(count):
            write_video(root / label / f"{i:02d}.mp4",
                        frames(8, 32, seed=seed + i, top=ROWS[label]))
    return root


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clips")
    write_folder(root / "train", {"top": 12, "bottom": 12})
    write_folder(root / "test", {"top": 4, "bottom": 4}, seed=100)
    return root


@pytest.fixture(scope="module")
def clip_run(clips: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "run"
    assert main(["fit", "--data", str(clips), "--out", str(out), "--steps", "40",
                 "--batch-size", "8", "--hidden-size", "16", "--quiet"]) == 0
    return out


def probabilities(csv_path: Path) -> tuple[list[str], list[str], np.ndarray]:
    with open(csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = list(rows[0])[3:]
    return ([r["clip"] for r in rows], [r["prediction"] for r in rows],
            np.array([[float(r[c]) for c in names] for r in rows]))


def test_fit_learns_from_a_folder_and_stores_its_labels(clip_run: Path) -> None:
    record = json.loads((clip_run / "preprocessing.json").read_text())
    assert record["classes"] == ["bottom", "top"]  # folder names, sorted
    assert record["step_shape"] == [3, 32, 32] and record["length"] == 16
    config = yaml.safe_load((clip_run / "config.yaml").read_text())
    assert config["size"] == 32 and config["model"] == "cnn-lstm" and config["frames"] == 16
    assert config["workers"] >= 1  # chosen from the CPU cores
    metrics = json.loads((clip_run / "metrics.json").read_text())
    assert metrics["evaluated_on"] == "test" and metrics["test_samples"] == 8
    assert metrics["test_accuracy"] == 1.0  # the row of the square is easy to see
    assert "8x8 frames" in metrics["baseline"] and 0 <= metrics["baseline_accuracy"] <= 1
    assert (clip_run / "examples.png").stat().st_size > 0


def _reference_probabilities(run: Path, paths: list[str]) -> np.ndarray:
    """Each clip decoded by PyAV on its own (every frame: 8 < --frames 16, 32x32 needs no
    resize), scaled to [0, 1] and run through the loaded model one clip at a time."""
    import av

    model, _ = load_run(run)
    rows = []
    for path in paths:
        with av.open(path) as container:
            video = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
        x = torch.from_numpy(video).permute(0, 3, 1, 2).float().div(255)[None]
        with torch.no_grad():
            rows.append(model(x).softmax(-1)[0].numpy())
    return np.stack(rows)


def test_predict_and_evaluate_match_a_per_clip_reference(
        clip_run: Path, clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli("predict", str(clip_run), "--input", str(clips / "test"), "--output",
                         str(tmp_path / "p.csv"), capsys=capsys)
    assert code == 0, err
    paths, predicted, p = probabilities(tmp_path / "p.csv")
    assert paths == sorted(str(f) for f in (clips / "test").rglob("*.mp4"))
    np.testing.assert_allclose(p, _reference_probabilities(clip_run, paths), atol=1e-4)
    np.testing.assert_allclose(p.sum(1), 1, atol=1e-3)
    assert predicted == [["bottom", "top"][i] for i in p.argmax(1)]
    # evaluate on the test folder: the accuracy of those predictions against the folder names
    code, _, err = cli("evaluate", str(clip_run), "--test-data", str(clips / "test"),
                         capsys=capsys)
    assert code == 0, err
    evaluation = json.loads((clip_run / "evaluation" / "evaluation.json").read_text())
    truth = [Path(path).parent.name for path in paths]
    assert evaluation["test_accuracy"] == pytest.approx(
        np.mean([a == b for a, b in zip(predicted, truth, strict=True)]))
    # one video file alone
    code, _, err = cli("predict", str(clip_run), "--input", paths[0], "--output",
                         str(tmp_path / "one.csv"), capsys=capsys)
    assert code == 0, err
    assert probabilities(tmp_path / "one.csv")[0] == paths[:1]


def test_the_exported_run_predicts_clips_in_onnxruntime(
        clip_run: Path, clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnxruntime")
    onnx_file = tmp_path / "clips.onnx"
    code, _, err = cli("export", str(clip_run), "--out", str(onnx_file), capsys=capsys)
    assert code == 0, err
    for name, extra in (("torch.csv", []), ("onnx.csv", ["--model", str(onnx_file)])):
        code, _, err = cli("predict", str(clip_run), "--input", str(clips / "test"),
                             "--output", str(tmp_path / name), *extra, capsys=capsys)
        assert code == 0, err
    np.testing.assert_allclose(probabilities(tmp_path / "onnx.csv")[2],
                               probabilities(tmp_path / "torch.csv")[2], atol=1e-4)


def test_a_bad_clip_stops_the_run_naming_it_or_is_skipped(
        clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(clips / "train", data)
    (data / "top" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(200))
    before = snapshot(tmp_path)
    code, out, err = cli("fit", "--data", str(data), "--out", str(tmp_path / "run"), capsys=capsys)
    assert code == 1 and err.count("\n") == 1
    assert "broken.mp4: not a readable video" in err
    assert snapshot(tmp_path) == before  # nothing written, no run folder
    code, out, err = cli("fit", "--data", str(data), "--out", str(tmp_path / "run"),
                         "--skip-bad", "--epochs", "1", "--hidden-size", "8", capsys=capsys)
    assert code == 0, err
    assert "note   skipped 1 unreadable clip (--skip-bad): " in out and "broken.mp4" in out


def test_a_val_folder_is_the_validation_set_and_a_manifest_reads_windows(
        clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    shutil.copytree(clips / "train", data / "train")
    shutil.copytree(clips / "test", data / "val")
    code, out, err = cli("fit", "--data", str(data), "--out", str(tmp_path / "run"),
                         "--epochs", "1", "--hidden-size", "8", capsys=capsys)
    assert code == 0, err
    assert "chose  validation on the val/ folder (8 clips)" in out
    assert RunConfig.load(tmp_path / "run" / "config.yaml").val_split == 0.0
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["evaluated_on"] == (
        "validation")
    code, out, err = cli("fit", "--data", str(data), "--out", str(tmp_path / "other"),
                         "--val-split", "0.2", capsys=capsys)
    assert code == 1 and "--val-split 0.2: " in err and "has a val/ folder" in err
    # a manifest: paths relative to it, a window of seconds (0.2-0.6 s: 4 of 8 frames at 10 fps)
    lines = ["path,label,start,end"] + [
        f"{p.relative_to(data)},{p.parent.name},0.2,0.6" for p in sorted(data.rglob("*.mp4"))]
    (data / "clips.csv").write_text("\n".join(lines) + "\n")
    code, out, err = cli("fit", "--data", str(data / "clips.csv"), "--out",
                         str(tmp_path / "manifest"), "--epochs", "1", "--hidden-size", "8",
                         capsys=capsys)
    assert code == 0, err
    assert "32 train" in out and "T<=16" in out


def test_imbalance_is_reported_and_fps_grayscale_apply(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_folder(tmp_path / "data", {"top": 9, "bottom": 3})
    code, out, err = cli("fit", "--data", str(tmp_path / "data"), "--out",
                         str(tmp_path / "run"), "--epochs", "1", "--hidden-size", "8",
                         "--fps", "5", "--grayscale", capsys=capsys)
    assert code == 0, err
    assert "note   classes are imbalanced: 'top' has 9 clips, 'bottom' has 3 (3.0x)" in out
    # 8 frames at 10 fps sampled at 5 fps: 4 frames per clip, one channel
    assert "T<=16 at 5.0 fps, step (1, 32, 32)" in out


@pytest.mark.parametrize(("args", "message"), [
    (["evaluate", "{run}", "--test-data", "{w}/x.npz"],
     r"--data .*x\.npz: this run was trained on .*; expected a folder or \.csv manifest of "
     r"clips"),
    (["predict", "{run}", "--input", "{w}/x.npz", "--output", "{w}/p.csv"],
     r"x\.npz: expected a video \(\.mp4, .*\), a folder of frames or a folder of clips; got "
     r"a \.npz file"),
    (["evaluate", "{run}", "--test-data", "{w}/other"],
     r"other: expected labels among the training classes \['bottom', 'top'\]; got \['left'\]"),
])
def test_wrong_inputs_for_clips_are_one_line(
        clip_run: Path, clips: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        args: list[str], message: str) -> None:
    import re

    np.savez(tmp_path / "x.npz", X=np.zeros((2, 5, 1)), y=np.array([0, 1]))
    write_video(tmp_path / "other" / "left" / "a.mp4", frames(4, 32))
    before = snapshot(clip_run)
    filled = [a.format(run=clip_run, w=tmp_path, clips=clips) for a in args]
    code, _, err = cli(*filled, capsys=capsys)
    assert code == 1 and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert snapshot(clip_run) == before


def test_a_resumed_clip_run_ends_with_the_uninterrupted_weights(
        clips: Path, tmp_path: Path) -> None:
    """Random crops drawn per epoch, read by 2 worker processes (through the decoded-clip
    cache): a run killed after epoch 2 and resumed gives exactly the weights of a run that
    was never interrupted."""
    settings = {"data": str(clips), "epochs": 3, "hidden_size": 8, "batch_size": 8,
                "size": 28, "frames": 6, "workers": 2, "val_split": 0.0,
                "cache": str(tmp_path / "cache")}
    script = f"""
import os, signal
import lightning.pytorch as pl
from timedist.train import fit, resolve_config

class Kill(pl.Callback):
    def on_train_epoch_start(self, trainer, module):
        if trainer.current_epoch == 2:
            os.kill(os.getpid(), signal.SIGKILL)

fit(resolve_config({settings!r}), out={str(tmp_path / "killed")!r}, verbose=False,
    progress=False, callbacks=[Kill()])
"""
    killed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr[-2000:]
    config = RunConfig.load(tmp_path / "killed" / "config.yaml")
    fit(config, resume=tmp_path / "killed", verbose=False, progress=False)
    fit(config, out=tmp_path / "straight", verbose=False, progress=False)
    resumed = torch.load(tmp_path / "killed/checkpoints/last.ckpt", weights_only=False)
    straight = torch.load(tmp_path / "straight/checkpoints/last.ckpt", weights_only=False)
    for key, value in straight["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=0, atol=0)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 32  # each clip once: 24 + 8 test
