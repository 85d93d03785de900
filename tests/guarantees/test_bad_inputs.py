"""The bad-input table (issue 13): files, arrays, flags, configs, checkpoints, run directories
and layer inputs a user might get wrong.

Every command case runs in a fresh folder holding a finished rocket run (``run``), a finished
network run (``net``), a good training file (``good.ts``, 2 channels, labels a/b) and whatever
the case adds; the folder is hashed before and after. Each case asserts the exit status (1 at
run time, 2 for usage errors), a message that names the offending file, argument or shape,
one line on stderr and no traceback, and that nothing in the folder changed.
docs/reliability.md lists the table.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml
from helpers import frames, replace_with_link, snapshot, write_pngs, write_video

import timedist
from timedist.cli import main
from timedist.data import label_names
from timedist.estimators import TimeSeriesClassifier, TimeSeriesRegressor
from timedist.models import FCN, RocketModel

GOOD = "@problemName Good\n@classLabel true a b\n@data\n" + "\n".join(
    ",".join(f"{(i * 3 + t * (1 + i % 2)) % 7 / 3:.3f}" for t in range(24)) + ":"
    + ",".join(f"{(i + t) % 5 / 2:.3f}" for t in range(24)) + f":{'ab'[i % 2]}"
    for i in range(16)) + "\n"


def make_templates(root: Path) -> Path:
    """A good training file, a finished rocket run, a finished network run and a finished
    run on clips (frame folders) in ``root``."""
    (root / "good.ts").write_text(GOOD)
    assert main(["fit", "--data", str(root / "good.ts"), "--out", str(root / "run"),
                 "--members", "1", "--num-features", "168", "--quiet"]) == 0
    assert main(["fit", "--data", str(root / "good.ts"), "--model", "fcn", "--epochs", "1",
                 "--batch-size", "8", "--out", str(root / "net"), "--quiet"]) == 0
    for label in ("a", "b"):
        for i in range(2):
            write_pngs(root / "frames" / label / f"c{i}", frames(3, 16, seed=i + 5 * (label > "a")))
    assert main(["fit", "--data", str(root / "frames"), "--epochs", "1", "--batch-size", "2",
                 "--workers", "0", "--frames", "3", "--out", str(root / "clip"), "--quiet"]) == 0
    shutil.rmtree(root / "frames")
    return root


def make_work(templates: Path, folder: Path) -> Path:
    """A fresh copy of the templates in ``folder`` for one case."""
    for name in ("run", "net", "clip"):
        shutil.copytree(templates / name, folder / name, symlinks=True)
    shutil.copy(templates / "good.ts", folder / "good.ts")
    return folder


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_templates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def work(templates: Path, tmp_path: Path) -> Path:
    return make_work(templates, tmp_path)


def ts(body: str, name: str = "bad.ts") -> Callable[[Path], list[str]]:
    """A case whose training file is ``body``."""
    def setup(w: Path) -> list[str]:
        (w / name).write_text(body)
        return ["fit", "--data", str(w / name), "--out", str(w / "new")]
    return setup


def npz(**arrays: Any) -> Callable[[Path], list[str]]:
    def setup(w: Path) -> list[str]:
        np.savez(w / "bad.npz", **arrays)
        return ["fit", "--data", str(w / "bad.npz"), "--out", str(w / "new")]
    return setup


def fit_with(*flags: str) -> Callable[[Path], list[str]]:
    return lambda w: ["fit", "--data", str(w / "good.ts"), "--out", str(w / "new"), *flags]


def config(text: str, suffix: str = ".yaml") -> Callable[[Path], list[str]]:
    def setup(w: Path) -> list[str]:
        (w / f"c{suffix}").write_text(text)
        return ["fit", "--config", str(w / f"c{suffix}"), "--out", str(w / "new")]
    return setup


def then(change: Callable[[Path], Any], *args: str) -> Callable[[Path], list[str]]:
    """Change the folder (a damaged run, a planted file), then run ``args`` (``{w}`` = the
    folder)."""
    def setup(w: Path) -> list[str]:
        change(w)
        return [a.format(w=w) for a in args]
    return setup


def edit_json(path: str, **changes: Any) -> Callable[[Path], None]:
    def change(w: Path) -> None:
        record = json.loads((w / path).read_text())
        record.update(changes)
        (w / path).write_text(json.dumps(record))
    return change


def edit_yaml(path: str, **changes: Any) -> Callable[[Path], None]:
    def change(w: Path) -> None:
        stored = yaml.safe_load((w / path).read_text())
        stored.update(changes)
        (w / path).write_text(yaml.safe_dump(stored))
    return change


def write(path: str, data: bytes | str) -> Callable[[Path], None]:
    def change(w: Path) -> None:
        (w / path).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            (w / path).write_text(data)
        else:
            (w / path).write_bytes(data)
    return change


def truncate(path: str, size: int) -> Callable[[Path], None]:
    return lambda w: (w / path).write_bytes((w / path).read_bytes()[:size])


class Payload:
    """A class a checkpoint must never make timedist build (weights_only)."""


def foreign_pickle(path: str) -> Callable[[Path], None]:
    return lambda w: torch.save({"state_dict": {}, "payload": Payload()}, w / path)


def other_weights(path: str) -> Callable[[Path], None]:
    return lambda w: torch.save({"state_dict": {"model.x": torch.zeros(2)}}, w / path)


def other_channels(w: Path) -> None:
    (w / "one.ts").write_text("@classLabel true a b\n@data\n1,2,3:a\n3,2,1:b\n")


def unknown_labels(w: Path) -> None:
    (w / "labels.ts").write_text(
        "@classLabel true a c\n@data\n" + GOOD.split("@data\n")[1].splitlines()[0].rsplit(":", 1)[0]
        + ":c\n")


def regression_file(w: Path) -> None:
    (w / "reg.ts").write_text("@targetLabel true\n@data\n1,2:3,4:0.5\n2,1:4,3:1.5\n")


def plant_link(w: Path) -> None:
    (w / "elsewhere").mkdir()
    (w / "run" / "link").symlink_to(w / "elsewhere", target_is_directory=True)


def gz(w: Path) -> None:
    (w / "g.ts.gz").write_bytes(gzip.compress(b"@classLabel true a b\n@data\n1,x:a\n"))


def both(*changes: Callable[[Path], Any]) -> Callable[[Path], None]:
    """Several changes, in order."""
    def change(w: Path) -> None:
        for one in changes:
            one(w)
    return change


def legacy(run: str) -> Callable[[Path], None]:
    """The run as an earlier timedist left it: no marker (nothing proves its files)."""
    return lambda w: (w / run / ".timedist-run.json").unlink()


def unfinished(run: str) -> Callable[[Path], None]:
    """What a killed fit leaves: checkpoints, no metrics.json, a marker still 'training'."""
    def change(w: Path) -> None:
        marker = json.loads((w / run / ".timedist-run.json").read_text())
        marker["state"] = "training"
        (w / run / ".timedist-run.json").write_text(json.dumps(marker))
        (w / run / "metrics.json").unlink()
    return change


def linked(path: str) -> Callable[[Path], None]:
    """``path`` (a file or folder of a run) moved to ``victim`` beside the runs, a link to
    it in its place: nothing may be written through it."""
    return lambda w: replace_with_link(w / path, w / "victim")


def link_to(path: str, target: str) -> Callable[[Path], None]:
    return lambda w: (w / path).symlink_to(w / target)


def forged_marker(files: dict[str, Any]) -> Callable[[Path], None]:
    def change(w: Path) -> None:
        marker = json.loads((w / "run" / ".timedist-run.json").read_text())
        marker["files"].update(files)
        (w / "run" / ".timedist-run.json").write_text(json.dumps(marker))
    return change


def savez(name: str, **arrays: Any) -> Callable[[Path], None]:
    return lambda w: np.savez(w / name, **arrays)


def own_net_then(text: str) -> Callable[[Path], None]:
    """A network run of this case's own ``good.ts`` (``mine``), then ``good.ts`` becomes
    ``text``."""
    def change(w: Path) -> None:
        assert main(["fit", "--data", str(w / "good.ts"), "--model", "fcn", "--epochs", "1",
                     "--batch-size", "8", "--out", str(w / "mine"), "--quiet"]) == 0
        (w / "good.ts").write_text(text)
    return change


def own_run_moved(w: Path) -> None:
    """A rocket run of this case's own ``good.ts`` (``mine``), whose data then moved away."""
    assert main(["fit", "--data", str(w / "good.ts"), "--out", str(w / "mine"), "--members",
                 "1", "--num-features", "168", "--quiet"]) == 0
    (w / "good.ts").rename(w / "elsewhere.ts")


def run_with_a_test_file(w: Path) -> None:
    """A rocket run with a test file (``tested``), whose test file is then edited."""
    (w / "test.ts").write_text(GOOD)
    assert main(["fit", "--data", str(w / "good.ts"), "--test-data", str(w / "test.ts"),
                 "--out", str(w / "tested"), "--members", "1", "--num-features", "168",
                 "--quiet"]) == 0
    (w / "test.ts").write_text(GOOD.replace("0.333", "0.334"))


def stray_image(w: Path) -> None:
    clips("in/a.mp4", "in/b.mp4")(w)
    write_pngs(w / "thumb", frames(1, 16))
    (w / "thumb" / "00000.png").rename(w / "in" / "cover.png")


def frames_beside_clips(w: Path) -> None:
    clips("clips/a/1.mp4", "clips/b/2.mp4", "clips/b/3/x.mp4")(w)
    write_pngs(w / "clips" / "b" / "3" / "f", frames(2, 16))
    for png in (w / "clips" / "b" / "3" / "f").iterdir():
        png.rename(w / "clips" / "b" / "3" / png.name)
    (w / "clips" / "b" / "3" / "f").rmdir()


# --- the second probe's classes (issue 20): special files, paths as typed, dtypes, labels that
# look alike, settings that would be ignored, runs whose proof is gone

def fifo(path: str) -> Callable[[Path], None]:
    """A FIFO nobody writes at ``path`` (reading it would wait forever)."""
    def change(w: Path) -> None:
        (w / path).unlink(missing_ok=True)
        os.mkfifo(w / path)
    return change


def folder_at(path: str) -> Callable[[Path], None]:
    def change(w: Path) -> None:
        (w / path).unlink(missing_ok=True)
        (w / path).mkdir()
    return change


def edit_marker(run: str, drop: str | None = None, **files: Any) -> Callable[[Path], None]:
    """The run's marker with ``files`` entries set (None: null) and ``drop`` removed."""
    def change(w: Path) -> None:
        marker = json.loads((w / run / ".timedist-run.json").read_text())
        marker["files"].update(files)
        if drop:
            del marker["files"][drop]
        (w / run / ".timedist-run.json").write_text(json.dumps(marker))
    return change


def shift_means(run: str) -> Callable[[Path], None]:
    return edit_json(f"{run}/preprocessing.json", standardization={"mean": [3, 3],
                                                                   "std": [1, 1]})


def copy_file(source: str, target: str) -> Callable[[Path], None]:
    return lambda w: shutil.copy(w / source, w / target)


def held_out_run(w: Path) -> None:
    """A rocket run with a validation split (``held``), whose config.yaml's seed is edited."""
    assert main(["fit", "--data", str(w / "good.ts"), "--val-split", "0.25", "--out",
                 str(w / "held"), "--members", "1", "--num-features", "168", "--quiet"]) == 0
    edit_yaml("held/config.yaml", seed=5)(w)


def clip_label_folder(name: str) -> Callable[[Path], None]:
    def change(w: Path) -> None:
        write_pngs(w / "clips" / "a" / "c1", frames(3, 16))
        write_pngs(w / "clips" / name / "c2", frames(3, 16, seed=1))
    return change


TS_LABELS = "@classLabel true {a} {b}\n@data\n1,2:3,4:{a}\n2,1:4,3:{b}\n1,3:2,4:{a}\n"


BIG = np.full((2, 24, 2), 1e39)
PREDICT = ("predict", "{w}/run", "--input", "{w}/good.ts", "--output", "{w}/p.csv")
SIGNALS = np.random.default_rng(0).normal(size=(4, 5, 1))
LABELS = np.array(["a", "b", "a", "b"])


def legacy_record(**changes: Any) -> Callable[[Path], None]:
    """An earlier timedist's run (no marker to compare with) whose record was edited: it is
    validated for itself."""
    return both(legacy("run"), edit_json("run/preprocessing.json", **changes))


HEADER = "@classLabel true a b\n@data\n"
def clips(*paths: str, broken: str | None = None) -> Callable[[Path], None]:
    """Small H.264 clips at ``paths`` (``label/name.mp4`` under the case's folder); a file of
    zeros at ``broken``."""
    def change(w: Path) -> None:
        for i, path in enumerate(paths):
            write_video(w / path, frames(4, 16, seed=i))
        if broken:
            (w / broken).parent.mkdir(parents=True, exist_ok=True)
            (w / broken).write_bytes(bytes(300))
    return change


def odd_frame(w: Path) -> None:
    write_pngs(w / "clips/a/c1", frames(3, 16))
    write_pngs(w / "clips/b/c2", frames(3, 16))
    write_pngs(w / "odd", frames(1, 20))
    (w / "odd/00000.png").rename(w / "clips/b/c2/00003.png")


def duplicate_member(w: Path) -> None:
    """An .npz (a zip) holding X.npy twice: np.load would take one of them."""
    import io
    import warnings
    import zipfile

    with zipfile.ZipFile(w / "dup.npz", "w") as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile's "Duplicate name"
        for name, array in (("X.npy", SIGNALS), ("X.npy", SIGNALS * 0), ("y.npy", LABELS)):
            buffer = io.BytesIO()
            np.save(buffer, array)
            archive.writestr(name, buffer.getvalue())


def fit_clips(source: str = "{w}/clips", *flags: str) -> tuple[str, ...]:
    return ("fit", "--data", source, "--out", "{w}/new", *flags)


CASES: list[tuple[str, Callable[[Path], list[str]], int, str]] = [
    # .ts files
    ("ts: a word among the values", ts(HEADER + "1,x:a\n"), 1,
     r"bad\.ts, line 3: expected a number, '\?' or NaN; got 'x'"),
    ("ts: an infinite value", ts(HEADER + "1,inf:a\n"), 1,
     r"bad\.ts, line 3: expected a finite number"),
    ("ts: channels of unequal length", ts(HEADER + "1,2:3:a\n"), 1,
     r"bad\.ts, line 3: expected channels of equal length within a sample; got lengths \[2, 1\]"),
    ("ts: a channel too many", ts("@dimensions 1\n" + HEADER + "1,2:3,4:a\n"), 1,
     r"bad\.ts, line 4: expected 1 channels \(@dimensions\); got 2"),
    ("ts: an undeclared label", ts(HEADER + "1,2:c\n"), 1,
     r"bad\.ts, line 3: expected a label declared in @classLabel \['a', 'b'\]; got 'c'"),
    ("ts: no @data", ts("@classLabel true a b\n1,2:a\n"), 1,
     r"bad\.ts, line 2: expected '#', '%', '@' metadata or '@data'"),
    ("ts: no samples", ts(HEADER), 1, r"bad\.ts: expected samples after '@data'; found none"),
    ("ts: empty file", ts(""), 1, r"bad\.ts: expected an '@data' line before the samples"),
    ("ts: time stamps", ts("@timeStamps true\n" + HEADER), 1,
     r"bad\.ts, line 1: expected @timeStamps false"),
    ("ts: @classLabel true without labels", ts("@classLabel true\n@data\n"), 1,
     r"bad\.ts, line 1: expected the class labels after @classLabel true"),
    ("ts: a boolean tag that is not", ts("@missing perhaps\n" + HEADER), 1,
     r"bad\.ts, line 1: expected @missing true or false; got 'perhaps'"),
    ("ts: univariate with two channels", ts("@univariate true\n" + HEADER + "1:2:a\n"), 1,
     r"bad\.ts, line 4: expected 1 channel \(@univariate true\); got 2"),
    ("ts: equalLength broken", ts("@equalLength true\n" + HEADER + "1,2:a\n1,2,3:b\n"), 1,
     r"bad\.ts, line 5: expected 2 steps like line 4 \(@equalLength true\); got 3"),
    ("ts: a missing regression target", ts("@targetLabel true\n@data\n1,2:?\n"), 1,
     r"bad\.ts, line 3: expected a regression target; got '\?'"),
    ("ts: no labels in a training file", ts("@data\n1,2\n2,3\n"), 1,
     r"bad\.ts, line 1: expected '@classLabel true <labels>' or '@targetLabel true'"),
    ("ts: one class only", ts(HEADER + "1,2:a\n2,3:a\n"), 1,
     r"bad\.ts: expected at least 2 classes among the training samples; got only 'a'"),
    ("ts: not UTF-8", then(write("bin.ts", b"\xff\xfe\x00\x81"), "fit", "--data", "{w}/bin.ts",
                           "--out", "{w}/new"), 1, r"bin\.ts: expected a UTF-8 text file"),
    ("ts: .gz that is not gzip", then(write("g.ts.gz", b"plain"), "fit", "--data",
                                      "{w}/g.ts.gz", "--out", "{w}/new"), 1,
     r"g\.ts\.gz: expected a gzip-compressed file"),
    ("ts: bad value inside .gz", then(gz, "fit", "--data", "{w}/g.ts.gz", "--out", "{w}/new"), 1,
     r"g\.ts\.gz, line 3: expected a number"),
    ("file: no such file", lambda w: ["fit", "--data", str(w / "nope.ts"), "--out", str(w / "n")],
     1, r"nope\.ts: no such file"),
    ("file: a folder", then(lambda w: (w / "d.ts").mkdir(), "fit", "--data", "{w}/d.ts", "--out",
                            "{w}/new"), 1,
     r"d\.ts: is a folder; expected a \.ts, \.npz, \.csv, \.tsv, \.parquet, \.txt or \.arff "
     r"\(\.gz too\) file"),
    ("file: another format", then(write("x.json", "{}\n"), "fit", "--data", "{w}/x.json",
                                  "--out", "{w}/new"), 1,
     r"x\.json: expected a built-in dataset \(.*\) or a file ending in \.ts, \.npz, \.csv, "),
    ("file: a table of one series", then(write("x.csv", "1,2\n"), "fit", "--data", "{w}/x.csv",
                                         "--out", "{w}/new"), 1,
     r"x\.csv: expected at least 2 training samples; got 1"),
    # own videos
    ("clips: an unreadable video", then(clips("clips/a/1.mp4", "clips/b/2.mp4",
                                              broken="clips/b/3.mp4"), *fit_clips()), 1,
     r"clips/b/3\.mp4: not a readable video \(Invalid data found when processing input\)"),
    ("clips: a folder without clips", then(write("clips/notes.txt", "x"), *fit_clips()), 1,
     r"clips: expected <label>/<clip>\{\.mp4,.*\} or <label>/<clip>/<frame>\{\.jpg,.*\}; found "
     r"no clips"),
    ("clips: a label folder holding no clip", then(write("clips/a/notes.txt", "x"),
                                                   *fit_clips()), 1,
     r"clips/a: a label folder without clips \(expected <clip>\{\.mp4,.*\} or "
     r"<clip>/<frame>\{\.jpg,.*\} in it\)"),
    ("clips: frames of two sizes", then(odd_frame, *fit_clips()), 1,
     r"c2/00003\.png: expected every frame of c2 to be 16x16; got 20x20"),
    ("clips: a manifest row of 3 columns", then(write("m.csv", "path,label\na.mp4,x,1\n"),
                                                *fit_clips("{w}/m.csv")), 1,
     r"m\.csv: line 2: expected 2 or 4 columns \(path,label\[,start,end\]\); got 3"),
    ("clips: a manifest window that ends first", then(
        write("m.csv", "path,label,start,end\na.mp4,x,2,1\n"), *fit_clips("{w}/m.csv")), 1,
     r"m\.csv: line 2: expected 0 <= start < end; got 2\.0, 1\.0"),
    ("clips: a manifest path that is not there", then(
        write("m.csv", "path,label\nnope.mp4,x\n"), *fit_clips("{w}/m.csv")), 1,
     r"nope\.mp4: no such clip"),
    ("clips: a test label never trained on", then(
        clips("clips/train/a/1.mp4", "clips/train/a/2.mp4", "clips/train/b/3.mp4",
              "clips/train/b/4.mp4", "clips/test/c/5.mp4"), *fit_clips()), 1,
     r"clips \(test\): expected labels among the training classes \['a', 'b'\]; got \['c'\]"),
    ("clips: --val-split beside a val/ folder", then(
        clips("clips/train/a/1.mp4", "clips/train/b/2.mp4", "clips/val/a/3.mp4"),
        *fit_clips("{w}/clips", "--val-split", "0.2")), 1,
     r"--val-split 0\.2: .*clips has a val/ folder; drop one of them"),
    ("clips: --shuffle-frames", then(clips("clips/a/1.mp4", "clips/b/2.mp4"),
                                     *fit_clips("{w}/clips", "--shuffle-frames")), 1,
     r"--shuffle-frames is for data held in memory \(\.ts/\.npz\); own videos cannot use it"),
    ("clips: --fps 0", then(clips("clips/a/1.mp4", "clips/b/2.mp4"),
                            *fit_clips("{w}/clips", "--fps", "0")), 1,
     r"expected fps > 0 \(frames per second\); got 0\.0"),
    ("clips: --frames 0", then(clips("clips/a/1.mp4", "clips/b/2.mp4"),
                               *fit_clips("{w}/clips", "--frames", "0")), 1,
     r"expected frames >= 1; got 0"),
    ("clips: test clips for a signal run", lambda w: [
        "fit", "--data", str(w / "good.ts"), "--test-data", str(w), "--out", str(w / "new")], 1,
     r"--test-data .*: expected a test file \(\.ts, \.npz, .*\) for .*good\.ts \(folders of "
     r"clips test runs on clips\)"),
    # .npz files
    ("npz: no y", npz(X=np.zeros((2, 3, 1))), 1, r"bad\.npz: expected arrays 'X' and 'y'"),
    ("npz: X and y disagree", npz(X=np.zeros((3, 3, 1)), y=np.zeros(2)), 1,
     r"bad\.npz: expected X \(N, T, C, \.\.\.\) with N = len\(y\) = 2; got shape \(3, 3, 1\)"),
    ("npz: ragged lengths do not add up", npz(X=np.zeros((5, 1)), y=np.zeros(2),
                                              lengths=np.array([2, 2])), 1,
     r"bad\.npz: expected ragged X .* summing to 5; got lengths 4"),
    ("npz: a 2-D X without lengths", npz(X=np.zeros((4, 6)), y=np.arange(4) % 2), 1,
     r"bad\.npz: expected X of shape \(N, T, C\) .*got shape \(4, 6\) and no 'lengths': for "
     r"N univariate series of T steps add a channel axis, X\[\.\.\., None\]"),
    ("npz: text named .npz", then(lambda w: (w / "t.npz").write_text("garbage\n"), "fit",
                                  "--data", "{w}/t.npz", "--out", "{w}/new"), 1,
     r"t\.npz: expected a NumPy \.npz archive \(np\.savez\); could not read it \(it is not a "
     r"zip archive, which every \.npz is\)"),
    ("predict: /dev/null as input", lambda w: ["predict", str(w / "run"), "--input",
                                               "/dev/null", "--output", str(w / "p.csv")], 1,
     r"error: /dev/null: expected a file ending in \.ts, \.npz, \.csv, \.tsv, \.parquet, \.txt "
     r"or \.arff \(\.gz too\)$"),
    ("run dir: its training data moved away", then(own_run_moved, "evaluate", "{w}/mine"), 1,
     r"good\.ts: no such file or folder; it is the run's data \(in \S*mine/config\.yaml\): put "
     r"it back, edit the path in config\.yaml, or pass --data FILE"),
    ("npz: a length beyond T", npz(X=np.zeros((2, 3, 1)), y=np.zeros(2),
                                   lengths=np.array([4, 1])), 1,
     r"bad\.npz: expected lengths in \[1, T=3\]"),
    ("npz: X of one dimension", npz(X=np.zeros(4), y=np.zeros(2)), 1,
     r"bad\.npz: expected X \(N, T, C\) or ragged .*; got shape \(4,\)"),
    ("npz: 2-D class labels", npz(X=np.zeros((2, 3, 1)), y=np.zeros((2, 2), dtype=int)), 1,
     r"bad\.npz: expected class labels y \(N,\); got shape \(2, 2\)"),
    ("npz: float lengths", npz(X=np.zeros((2, 3, 1)), y=np.zeros(2),
                               lengths=np.array([2.0, 2.5])), 1,
     r"bad\.npz: expected integer lengths; got dtype float64"),
    ("npz: inf in X", npz(X=np.array([[[1.0], [np.inf]], [[0.0], [1.0]]]), y=np.zeros(2)), 1,
     r"bad\.npz: expected finite values in X .*; got inf at X\[0, 1, 0\]"),
    ("npz: a NaN target", npz(X=np.zeros((2, 3, 1)), y=np.array([1.0, np.nan])), 1,
     r"bad\.npz: expected finite targets y; got nan for sample 1"),
    ("npz: a label outside 'classes'", npz(X=np.zeros((2, 3, 1)), y=np.array(["a", "z"]),
                                           classes=np.array(["a", "b"])), 1,
     r"bad\.npz: expected labels among 'classes' \['a', 'b'\]; got \['z'\]"),
    ("npz: text in X", npz(X=np.array([[["a"]], [["b"]]]), y=np.zeros(2)), 1,
     r"bad\.npz: expected numbers in X; got dtype <U1"),
    ("npz: Python objects", then(lambda w: np.savez(w / "o.npz", X=np.array(
        [np.zeros(2), np.zeros(3)], dtype=object), y=np.zeros(2)), "fit", "--data",
        "{w}/o.npz", "--out", "{w}/new"), 1, r"o\.npz: expected arrays of numbers or strings"),
    ("npz: not an archive", then(write("g.npz", b"garbage"), "fit", "--data", "{w}/g.npz",
                                 "--out", "{w}/new"), 1,
     r"g\.npz: expected a NumPy \.npz archive \(np\.savez\)"),
    ("npz: a .npy under .npz", then(lambda w: np.save(w / "a.npy", np.zeros(3)) or shutil.move(
        w / "a.npy", w / "a.npz"), "fit", "--data", "{w}/a.npz", "--out", "{w}/new"), 1,
     r"a\.npz: expected a \.npz archive of named arrays"),
    ("npz: 1e8 as a label is one class", npz(X=np.zeros((2, 3, 1)),
                                             y=np.array([100_000_000, 100_000_000])), 1,
     r"bad\.npz: expected at least 2 classes among the training samples; got only "
     r"'100000000'"),
    # test files that do not fit the training file
    ("test file: other channels", then(other_channels, "fit", "--data", "{w}/good.ts",
                                       "--test-data", "{w}/one.ts", "--out", "{w}/new"), 1,
     r"one\.ts: expected steps of shape \(2,\) like the training data; got \(1,\)"),
    ("test file: unknown labels", then(unknown_labels, "fit", "--data", "{w}/good.ts",
                                       "--test-data", "{w}/labels.ts", "--out", "{w}/new"), 1,
     r"expected labels among the training classes \['a', 'b'\]; got \['c'\]"),
    ("test file: regression for classification", then(
        regression_file, "fit", "--data", "{w}/good.ts", "--test-data", "{w}/reg.ts", "--out",
        "{w}/new"), 1, r"reg\.ts: expected classification targets like the training data; got "
                       r"regression"),
    ("test file: with a built-in dataset", lambda w: [
        "fit", "--data", "japanese-vowels", "--test-data", str(w / "good.ts"), "--out",
        str(w / "n")], 1, r"--test-data is for own files; japanese-vowels has its own test"),
    # flags
    ("flag: epochs 0", fit_with("--epochs", "0"), 1, r"expected epochs >= 1; got 0"),
    ("flag: epochs not a number", fit_with("--epochs", "ten"), 2,
     r"argument --epochs: invalid int value: 'ten'"),
    ("flag: negative lr", fit_with("--lr", "-1"), 1, r"expected lr > 0; got -1\.0"),
    ("flag: val-split 1.5", fit_with("--val-split", "1.5"), 1,
     r"expected 0 <= val_split < 1; got 1\.5"),
    ("flag: batch size 0", fit_with("--batch-size", "0"), 1, r"expected batch_size >= 1; got 0"),
    ("flag: unknown model", fit_with("--model", "transformer"), 1,
     r"unknown model 'transformer'; expected one of rocket, inception"),
    ("flag: unknown cell", fit_with("--cell", "rnn"), 1,
     r"expected cell one of lstm, gru; got 'rnn'"),
    ("flag: unknown normalization", fit_with("--normalize", "minmax"), 1,
     r"expected normalize one of channel, series, none; got 'minmax'"),
    ("flag: unknown features", fit_with("--features", "rocket"), 1,
     r"expected features one of minirocket\+hydra, .*; got 'rocket'"),
    ("flag: members 0", fit_with("--members", "0"), 1, r"expected members >= 1; got 0"),
    ("flag: members 101", fit_with("--members", "101"), 1, r"expected members <= 100; got 101"),
    ("flag: epochs beyond a C integer", fit_with("--model", "fcn", "--epochs", "9" * 20), 1,
     r"expected epochs <= 2,147,483,647; got 99999999999999999999"),
    ("flag: batch size 10**30", fit_with("--model", "fcn", "--batch-size", "1" + "0" * 30), 1,
     r"expected batch_size <= 2,147,483,647; got 1000000000000000000000000000000"),
    ("flag: more devices than cores", fit_with("--model", "fcn", "--devices", "1024",
                                               "--batch-size", "1024", "--accelerator", "cpu"),
     1, r"--devices 1024: this machine has \d+ CPU cores for --accelerator cpu; expected at "
        r"most \d+"),
    ("flag: subsequences that do not divide the length", fit_with(
        "--model", "cnn-lstm", "--subsequences", "5"), 1,
     r"--subsequences 5: expected a divisor of the series length 24 .*try 2, 3, 4, 6, 8, 12"),
    ("flag: dropout 1", fit_with("--dropout", "1"), 1, r"expected 0 <= dropout < 1; got 1\.0"),
    ("flag: negative patience", fit_with("--patience", "-1"), 1,
     r"expected patience >= 0 \(0: off\); got -1"),
    ("flag: an unknown accelerator", fit_with("--accelerator", "tpu"), 1,
     r"--accelerator: expected auto, cpu or gpu; got 'tpu'"),
    ("flag: batch not divisible by devices", fit_with(
        "--model", "fcn", "--devices", "2", "--batch-size", "33"),
     1, r"expected batch_size divisible by devices x num_nodes = 2 .*; got 33"),
    ("flag: an unknown flag", fit_with("--epohcs", "3"), 2, r"unrecognized arguments: --epohcs"),
    ("flag: subset leaves one to train", fit_with("--subset", "3", "--val-split", "0.5"), 1,
     r"--val-split 0\.5 of 3 samples leaves 1 to train on; expected at least 2"),
    ("flag: subset of one", fit_with("--subset", "1"), 1,
     r"expected at least 2 training samples; got 1 \(--subset\)"),
    ("flag: a model for frames on signals", fit_with("--model", "conv-lstm-forecaster"), 1,
     r"model 'conv-lstm-forecaster' does not fit task 'classification'"),
    ("flag: a signal model on frames", lambda w: [
        "fit", "--data", "moving-digits", "--model", "rocket", "--subset", "8", "--out",
        str(w / "n")], 1, r"model 'rocket' expects signals, steps \(C,\); got steps \(1, 32, 32\)"),
    ("flag: --resume with a setting", lambda w: ["fit", "--resume", str(w / "net"), "--lr",
                                                 "0.1"], 1,
     r"--resume continues the stored config; drop --lr"),
    ("flag: --resume with --overwrite", lambda w: [
        "fit", "--resume", str(w / "net"), "--overwrite"], 1,
     r"--resume continues the stored config; drop --overwrite"),
    ("flag: --resume with --out", lambda w: [
        "fit", "--resume", str(w / "net"), "--out", str(w / "elsewhere")], 1,
     r"--resume continues the stored config; drop --out"),
    ("flag: --resume of no run", lambda w: ["fit", "--resume", str(w / "nowhere")], 1,
     r"nowhere/config\.yaml: no such config file"),
    ("flag: explain with a negative size", lambda w: ["explain", "gru", "--hidden-size", "-1"],
     2, r"argument --hidden-size: expected an integer >= 1 and <= 1024; got '-1'"),
    ("flag: explain --png into no folder", lambda w: [
        "explain", "rnn", "--png", str(w / "no" / "x.png")], 1, r"--png .*x\.png: no such folder"),
    ("flag: summary of a non-model", lambda w: ["summary", "os:path"], 2,
     r"expected os:path to be an nn\.Module"),
    ("flag: summary with the wrong input", lambda w: ["summary", "td-conv2d", "--input-size",
                                                      "2,3,8,8"], 1,
     r"timedist summary: error: TimeDistributed\(.*\): expected input"),
    # config files
    ("config: no such file", lambda w: ["fit", "--config", str(w / "none.yaml")], 1,
     r"none\.yaml: no such config file"),
    ("config: an empty file", config(""), 1,
     r"c\.yaml: holds no settings \(it is empty, or only comments\); expected a mapping"),
    ("config: only comments", config("# data: good.ts\n# epochs: 3\n"), 1,
     r"c\.yaml: holds no settings"),
    ("config: an empty JSON mapping", config("{}", ".json"), 1, r"c\.json: holds no settings"),
    ("config: another suffix", config("epochs: 3\n", ".txt"), 1,
     r"c\.txt: expected a \.yaml, \.yml or \.json config file"),
    ("config: 2 MB", config("#" + "x" * 2_000_000 + "\n"), 1,
     r"error: \S*c\.yaml: expected a config file of at most 1 MiB; got 2,000,002 bytes$"),
    ("config: a key twice (YAML)", config("members: 1\nepochs: 2\nmembers: 2\n"), 1,
     r"c\.yaml: not valid YAML: the key 'members' is given twice .*line 3"),
    ("config: a key twice (JSON)", config('{"members": 1, "members": 2}', ".json"), 1,
     r"c\.json: not valid JSON: the key 'members' is given twice"),
    ("config: not YAML", config("epochs: [3\n"), 1, r"c\.yaml: not valid YAML"),
    ("config: not JSON", config("{epochs: 3", ".json"), 1, r"c\.json: not valid JSON"),
    ("config: an unknown key", config("epoch: 3\n"), 1,
     r"c\.yaml: unknown setting 'epoch'; expected some of data, "),
    ("config: a value out of range names the file", config("data: good.ts\nseed: -1\n"), 1,
     r"error: \S*c\.yaml: expected 0 <= seed < 2\*\*32; got -1$"),
    ("config: a setting for another model names the file", config(
        "data: good.ts\nepochs: 3\n"), 1,
     r"error: \S*c\.yaml: --epochs 3: applies to networks \(not rocket\)"),
    ("config: a wrong type", config("epochs: '3'\n"), 1,
     r"expected epochs of type int or null \(chosen from the data\); got '3'"),
    ("config: a list", config("- 3\n"), 1, r"c\.yaml: expected a mapping of settings; got list"),
    # run directories
    ("run dir: exists, no --overwrite", lambda w: [
        "fit", "--data", str(w / "good.ts"), "--out", str(w / "run")], 1,
     r"run: the run directory exists; pass --overwrite to replace it or --resume"),
    ("run dir: a folder of the user's", then(write("mine/notes.txt", "mine"), "fit", "--data",
                                             "{w}/good.ts", "--out", "{w}/mine", "--overwrite"),
     1, r"mine: not a run timedist can prove it wrote \(no \.timedist-run\.json\); --overwrite "
        r"replaces only timedist's own runs"),
    ("run dir: a user's file inside", then(write("run/notes.txt", "mine"), "fit", "--data",
                                           "{w}/good.ts", "--out", "{w}/run", "--overwrite"), 1,
     r"--overwrite replaces only what timedist wrote, and this folder also holds notes\.txt"),
    ("run dir: a user's checkpoint", then(write("run/checkpoints/mine.ckpt", b"x"), "fit",
                                          "--data", "{w}/good.ts", "--out", "{w}/run",
                                          "--overwrite"), 1,
     r"also holds checkpoints/mine\.ckpt"),
    ("run dir: a link inside", then(plant_link, "fit", "--data", "{w}/good.ts", "--out",
                                    "{w}/run", "--overwrite"), 1, r"also holds link"),
    ("run dir: a typo with --overwrite", lambda w: ["fit", "--data", str(w / "god.ts"), "--out",
                                                    str(w / "run"), "--overwrite"], 1,
     r"god\.ts: no such file"),
    ("run dir: evaluate a folder that is not a run", lambda w: ["evaluate", str(w)], 1,
     r": not a timedist run directory \(no config\.yaml\)"),
    ("run dir: no preprocessing.json", then(lambda w: (w / "run" / "preprocessing.json").unlink(),
                                            "evaluate", "{w}/run"), 1,
     r"preprocessing\.json: not found; the run directory is incomplete"),
    ("run dir: a hand-edited config", then(edit_yaml("run/config.yaml", members=-1),
                                           "evaluate", "{w}/run"), 1,
     r"expected members >= 1; got -1"),
    ("run dir: config.yaml names another model", then(
        edit_yaml("net/config.yaml", model="inception"), "evaluate", "{w}/net"), 1,
     r"net/config\.yaml: model is 'inception', but the run was trained with 'fcn' \(its "
     r"preprocessing\.json\); restore it"),
    ("run dir: config.yaml with another normalization", then(
        edit_yaml("run/config.yaml", normalize="none"), *PREDICT), 1,
     r"run/config\.yaml: normalize is 'none', but the run was trained with 'channel'"),
    ("run dir: config.yaml with another hidden size", then(
        edit_yaml("net/config.yaml", hidden_size=7), "export", "{w}/net"), 1,
     r"net/config\.yaml: hidden_size is 7, but the run was trained with \d+"),
    ("run dir: config.yaml emptied", then(write("run/config.yaml", ""), "evaluate", "{w}/run"),
     1, r"run/config\.yaml: holds no settings \(it is empty, or only comments\)"),
    ("run dir: a config key of the wrong type", then(edit_yaml("run/config.yaml", lr="fast"),
                                                     "evaluate", "{w}/run"), 1,
     r"expected lr of type float; got 'fast'"),
    ("run dir: a record with another task", then(edit_json("run/preprocessing.json",
                                                           task="clustering"),
                                                 "evaluate", "{w}/run"), 1,
     r"preprocessing\.json: changed after timedist wrote it \(it no longer matches the run's "
     r"marker\)"),
    ("run dir: a record with a bad shape", then(edit_json("run/preprocessing.json",
                                                          step_shape=[-2]),
                                                "evaluate", "{w}/run"), 1,
     r"preprocessing\.json: changed after timedist wrote it"),
    ("run dir: predict to another format", lambda w: [
        "predict", str(w / "run"), "--input", str(w / "good.ts"), "--output", str(w / "p.txt")],
     1, r"--output .*p\.txt: expected a file ending in \.csv for a classification run"),
    ("run dir: predict other channels", then(other_channels, "predict", "{w}/run", "--input",
                                             "{w}/one.ts", "--output", "{w}/p.csv"), 1,
     r"expected steps of shape \(2,\) like the training data; got \(1,\)"),
    ("run dir: evaluate on another dataset", lambda w: ["evaluate", str(w / "run"), "--data",
                                                        "sunspots"], 1,
     r"evaluate it on that or on a file of the same kind, not on sunspots"),
    ("run dir: evaluate regression data", then(regression_file, "evaluate", "{w}/run",
                                               "--data", "{w}/reg.ts"), 1,
     r"expected classification targets like the training data; got regression"),
    # export and predict --model (docs/deploy.md)
    ("export: no run there", lambda w: ["export", str(w / "nothing")], 1,
     r"nothing: not a timedist run directory \(not found\)"),
    ("export: a file of the user's in the way", then(write("run/model.onnx", "mine"),
                                                     "export", "{w}/run"), 1,
     r"model\.onnx: exists and timedist did not write it \(or it changed since\); pass "
     r"--overwrite to replace it"),
    ("export: --out of another format", lambda w: ["export", str(w / "run"), "--format", "pt2",
                                                   "--out", str(w / "m.onnx")], 1,
     r"--out .*m\.onnx: expected a file ending in \.pt2 for --format pt2"),
    ("export: an unknown format", lambda w: ["export", str(w / "run"), "--format", "tflite"], 2,
     r"argument --format: invalid choice: 'tflite'"),
    ("export: streaming a model that reads whole series", lambda w: [
        "export", str(w / "run"), "--streaming"], 1,
     r"expected a recurrent model for streaming; got RocketModel"),
    ("predict --model: not an ONNX file", lambda w: [
        "predict", str(w / "run"), "--input", str(w / "good.ts"), "--output", str(w / "p.csv"),
        "--model", str(w / "good.ts")], 1,
     r"good\.ts: expected an \.onnx file written by timedist export"),
    ("predict --model: another run's file", then(
        lambda w: timedist.export(timedist.GRU(2, 3), torch.randn(2, 5, 2), w / "gru.onnx"),
        "predict", "{w}/run", "--input", "{w}/good.ts", "--output", "{w}/p.csv", "--model",
        "{w}/gru.onnx"), 1, r"gru\.onnx: exported from another run \(timedist\.task is None"),
    # checkpoints
    ("checkpoint: empty", then(write("run/checkpoints/best.ckpt", b""), "evaluate", "{w}/run"),
     1, r"best\.ckpt: not a readable checkpoint \(EOFError"),
    ("checkpoint: truncated", then(truncate("run/checkpoints/best.ckpt", 3000), "evaluate",
                                   "{w}/run"), 1, r"best\.ckpt: not a readable checkpoint"),
    ("checkpoint: a foreign object", then(foreign_pickle("run/checkpoints/best.ckpt"),
                                          "evaluate", "{w}/run"), 1,
     r"best\.ckpt: not a readable checkpoint \(UnpicklingError"),
    ("checkpoint: another model's weights", then(other_weights("run/checkpoints/best.ckpt"),
                                                 "predict", "{w}/run", "--input", "{w}/good.ts",
                                                 "--output", "{w}/p.csv"), 1,
     r"best\.ckpt: its weights do not fit the model that config\.yaml describes"),
    ("checkpoint: not a dict", then(lambda w: torch.save([1, 2], w / "run/checkpoints/best.ckpt"),
                                    "evaluate", "{w}/run"), 1,
     r"best\.ckpt: expected a checkpoint holding a state_dict; got list"),
    ("checkpoint: missing best", then(lambda w: (w / "run/checkpoints/best.ckpt").unlink(),
                                      "evaluate", "{w}/run"), 1,
     r"run/checkpoints/best\.ckpt: not found \(did the run finish an epoch\?\)"),
    ("checkpoint: resume from a truncated last", then(truncate("net/checkpoints/last.ckpt",
                                                               4000), "fit", "--resume",
                                                      "{w}/net"), 1,
     r"last\.ckpt: not a readable checkpoint"),
    ("checkpoint: resume without last", then(lambda w: (w / "net/checkpoints/last.ckpt").unlink(),
                                             "fit", "--resume", "{w}/net"), 1,
     r"net/checkpoints/last\.ckpt: not found, so there is nothing to resume from"),

    # ownership: a folder is timedist's only by proof (issue 20)
    ("own: a project folder with its own config.yaml", then(both(
        write("proj/config.yaml", "lr: 0.1\n"), write("proj/metrics.csv", "epoch,loss\n"),
        write("proj/curve.png", b"png")), "fit", "--data", "{w}/good.ts", "--out", "{w}/proj",
        "--overwrite"), 1, r"proj: not a run timedist can prove it wrote \(no "
                           r"\.timedist-run\.json\)"),
    ("own: another tool's checkpoints", then(both(
        write("lt/config.yaml", "x"), write("lt/checkpoints/best.ckpt", b"w"),
        write("lt/checkpoints/last.ckpt", b"w")), "fit", "--data", "{w}/good.ts", "--out",
        "{w}/lt", "--overwrite"), 1, r"lt: not a run timedist can prove it wrote"),
    ("own: a run of an earlier timedist", then(legacy("run"), "fit", "--data", "{w}/good.ts",
                                               "--out", "{w}/run", "--overwrite"), 1,
     r"it looks like a run of an earlier timedist, which kept no list of its files"),
    ("own: a run file the user changed", then(write("run/metrics.csv", "mine"), "fit", "--data",
                                               "{w}/good.ts", "--out", "{w}/run",
                                               "--overwrite"), 1,
     r"also holds metrics\.csv \(changed since timedist wrote it\)"),
    ("own: a file named like a temporary file", then(
        write("run/.metrics.json.mybackup.tmp", "mine"), "fit", "--data", "{w}/good.ts",
        "--out", "{w}/run", "--overwrite"), 1, r"also holds \.metrics\.json\.mybackup\.tmp"),
    ("own: a forged marker naming a file outside", then(
        forged_marker({"../good.ts": None}), "fit", "--data", "{w}/good.ts", "--out",
        "{w}/run", "--overwrite"), 1,
     r"not a marker timedist wrote \(it lists '\.\./good\.ts', a file timedist never writes"),
    ("own: a marker that is not JSON", then(write("run/.timedist-run.json", "{"), "evaluate",
                                            "{w}/run"), 1,
     r"\.timedist-run\.json: not a marker timedist wrote \(not valid JSON"),
    ("own: --out inside another run", lambda w: [
        "fit", "--data", str(w / "good.ts"), "--out", str(w / "run" / "evaluation" / "x")], 1,
     r"--out .*evaluation/x: is inside the timedist run .*run; choose a folder outside it"),
    ("own: --out inside the clips it trains on", then(
        clips("clips/a/1.mp4", "clips/b/2.mp4"), "fit", "--data", "{w}/clips", "--out",
        "{w}/clips/runs/x"), 1, r"is inside --data .*clips, whose folders are read as clips"),
    ("own: --out that is a file", lambda w: ["fit", "--data", str(w / "good.ts"), "--out",
                                             str(w / "good.ts"), "--overwrite"], 1,
     r"--out .*good\.ts: is a file; expected a folder for the run"),
    # no link inside a run is followed
    ("link: the lock", then(linked("run/.timedist.lock"), "evaluate", "{w}/run"), 1,
     r"\.timedist\.lock: is a link \(to .*victim\); timedist never follows links inside a "
     r"run folder"),
    ("link: the lock of a run to resume", then(linked("net/.timedist.lock"), "fit", "--resume",
                                               "{w}/net"), 1, r"\.timedist\.lock: is a link"),
    ("link: evaluation/", then(linked("run/evaluation"), "evaluate", "{w}/run"), 1,
     r"run/evaluation: is a link"),
    ("link: checkpoints/", then(linked("run/checkpoints"), *PREDICT), 1,
     r"run/checkpoints: is a link"),
    ("link: config.yaml", then(linked("run/config.yaml"), "evaluate", "{w}/run"), 1,
     r"run/config\.yaml: is a link"),
    ("link: the marker", then(linked("run/.timedist-run.json"), "evaluate", "{w}/run"), 1,
     r"\.timedist-run\.json: is a link"),
    # output files are the user's
    ("output: predict onto an existing file", then(write("p.csv", "mine"), *PREDICT), 1,
     r"--output .*p\.csv: exists; pass --overwrite to replace it"),
    ("output: predict through a link onto the input", then(
        link_to("p.csv", "good.ts"), *PREDICT, "--overwrite"), 1,
     r"--output .*p\.csv: is an input of this command"),
    ("output: predict onto a run's file", lambda w: [
        "predict", str(w / "run"), "--input", str(w / "good.ts"), "--output",
        str(w / "net" / "metrics.csv"), "--overwrite"], 1,
     r"--output .*metrics\.csv: is metrics\.csv of the timedist run .*net"),
    ("output: predict into a folder", then(lambda w: (w / "p.csv").mkdir(), *PREDICT), 1,
     r"--output .*p\.csv: is a folder; expected a file path"),
    ("output: export onto a file of the user's", then(
        write("mine.onnx", "mine"), "export", "{w}/run", "--out", "{w}/mine.onnx"), 1,
     r"mine\.onnx: exists; pass overwrite=True \(--overwrite\) to replace it"),
    ("output: export onto another run's export", lambda w: [
        "export", str(w / "run"), "--out", str(w / "net" / "model.onnx"), "--overwrite"], 1,
     r"model\.onnx: is model\.onnx of the timedist run .*net"),
    ("output: explain --png onto a data file", lambda w: [
        "explain", "rnn", "--png", str(w / "good.ts")], 1,
     r"--png .*good\.ts: expected a file ending in \.png"),
    ("output: explain --png onto an existing picture", then(
        write("x.png", b"png"), "explain", "rnn", "--png", "{w}/x.png"), 1,
     r"--png .*x\.png: exists; pass --overwrite to replace it"),
    ("output: explain --png onto a run's plot", lambda w: [
        "explain", "rnn", "--png", str(w / "run" / "confusion_matrix.png"), "--overwrite"], 1,
     r"is confusion_matrix\.png of the timedist run"),
    ("output: explain --png of 500 steps", lambda w: [
        "explain", "rnn", "--seq-len", "500", "--png", str(w / "big.png")], 1,
     r"--png draws at most 32 for --seq-len \(a bigger picture is unreadable\); got 500 "
     r"\(without --png up to 1024 is explained\)"),
    ("output: evaluate beside a file of the user's", then(
        write("run/evaluation/confusion_matrix.png", b"mine"), "evaluate", "{w}/run"), 1,
     r"evaluation/confusion_matrix\.png: exists and timedist did not write it"),
    # unfinished runs
    ("unfinished: evaluate a killed run", then(unfinished("net"), "evaluate", "{w}/net"), 1,
     r"net: the run has not finished .*pass --unfinished"),
    ("unfinished: predict a killed run", then(unfinished("run"), *PREDICT), 1,
     r"run: the run has not finished"),
    ("unfinished: export a killed run", then(unfinished("run"), "export", "{w}/run"), 1,
     r"run: the run has not finished"),
    # paths mean what the user meant
    ("paths: a relative path in a config is the config's", then(
        write("sub/c.yaml", "data: nope.ts\n"), "fit", "--config", "{w}/sub/c.yaml", "--out",
        "{w}/new"), 1, r"sub/nope\.ts: no such file"),
    ("paths: a pipe for --data", then(lambda w: os.mkfifo(w / "p.ts"), "fit", "--data",
                                      "{w}/p.ts", "--out", "{w}/new"), 1,
     r"p\.ts: not a regular file \(a pipe, a device or a socket\)"),
    ("paths: evaluate after the test file changed", then(run_with_a_test_file, "evaluate",
                                                              "{w}/tested"),
     1, r"its test data .*test\.ts changed since the run was trained \(the same number of "
        r"samples, other values\)"),
    ("paths: resume after the data changed", then(
        own_net_then(GOOD.replace("0.333", "0.334")), "fit", "--resume", "{w}/mine"), 1,
     r"its training data .*good\.ts changed since the run was trained"),
    ("paths: resume after the data gained a class", then(
        own_net_then(GOOD.replace("true a b", "true a b c").replace(":b\n", ":c\n", 1)),
        "fit", "--resume", "{w}/mine"), 1,
     r"the training data's classes changed since the run started \(now \['a', 'b', 'c'\], "
     r"then \['a', 'b'\]\)"),
    ("paths: resume after config.yaml was edited", then(
        edit_yaml("net/config.yaml", epochs=3), "fit", "--resume", "{w}/net"), 1,
     r"config\.yaml: changed after timedist wrote it; --resume continues the run as it was "
     r"set up"),
    ("paths: resume a run of an earlier timedist", then(legacy("net"), "fit", "--resume",
                                                        "{w}/net"), 1,
     r"net: not a run this timedist started \(no \.timedist-run\.json"),
    # numbers keep their precision
    ("numbers: beyond float32 without normalization", then(
        savez("big.npz", X=np.concatenate([BIG, -BIG]), y=LABELS), "fit", "--data",
        "{w}/big.npz", "--normalize", "none", "--out", "{w}/new"), 1,
     r"big\.npz: sample 0 holds 1e\+39 at step 0, which is 1e\+39 after no normalization: "
     r"beyond float32's range \(3\.4e38\).*use --normalize channel or series"),
    ("numbers: an input far beyond the training data", then(
        savez("big.npz", X=BIG), "predict", "{w}/run", "--input", "{w}/big.npz", "--output",
        "{w}/p.csv"), 1, r"big\.npz: sample 0 holds 1e\+39 .*beyond float32's range"),
    ("numbers: every value missing", npz(X=np.full((4, 3, 1), np.nan), y=LABELS), 1,
     r"bad\.npz: expected values in the training data; every value is missing \(NaN\)"),
    ("numbers: --fps inf", fit_with("--fps", "inf"), 1, r"expected a finite fps; got inf"),
    ("numbers: --lr nan", fit_with("--lr", "nan"), 1, r"expected a finite lr; got nan"),
    ("numbers: --seed -5", fit_with("--seed", "-5"), 1, r"expected 0 <= seed < 2\*\*32; got -5"),
    ("numbers: --weight-decay -1", fit_with("--weight-decay", "-1"), 1,
     r"expected weight_decay >= 0; got -1\.0"),
    ("numbers: --ddp-timeout 0", fit_with("--ddp-timeout", "0"), 1,
     r"expected ddp_timeout >= 1; got 0"),
    ("numbers: a 5000-digit number in a JSON config", config(
        '{"batch_size": ' + "9" * 5000 + "}", ".json"), 1, r"c\.json: not valid JSON: "),
    # labels are text
    ("labels: a blank label", npz(X=SIGNALS, y=np.array(["a", " ", "a", "b"])), 1,
     r"bad\.npz: y: expected a non-blank label; got ' '"),
    ("labels: bytes that are not UTF-8", npz(X=SIGNALS, y=np.array([b"\xff", b"a"] * 2)), 1,
     r"bad\.npz: y: expected labels as text; got b'\\xff', bytes that are not UTF-8"),
    ("labels: a blank label in a manifest", then(both(
        clips("c.mp4"), write("m.csv", "path,label\nc.mp4, \n")), "fit", "--data",
        "{w}/m.csv", "--out", "{w}/new"), 1,
     r"m\.csv: line 2: expected a label in the second column; got a blank one for 'c\.mp4'"),
    ("labels: frames beside videos in one clip folder", then(
        frames_beside_clips, "fit", "--data", "{w}/clips", "--out", "{w}/new"), 1,
     r"clips/b/3: holds frame images \(00000\.png\) and clips \(x\.mp4\)"),
    ("labels: predict a folder of clips with a stray image", then(
        stray_image, "predict", "{w}/clip", "--input", "{w}/in", "--output", "{w}/p.csv"), 1,
     r"in: holds frame images \(cover\.png\) and clips \(a\.mp4\); expected a folder of "
     r"frames or a folder of clips, not both"),
    # a run knows what it is
    ("record: std 0", then(legacy_record(standardization={"mean": [0, 0], "std": [0, 1]}),
                           "evaluate", "{w}/run"), 1,
     r"expected 'standardization' with finite means and stds > 0"),
    ("record: means for other channels", then(legacy_record(
        standardization={"mean": [0, 0, 0], "std": [1, 1, 1]}), "evaluate", "{w}/run"), 1,
     r"expected 'standardization' with 2 means and stds \(one per channel\); got 3 and 3"),
    ("record: fewer classes than outputs", then(legacy_record(classes=["a"]), *PREDICT), 1,
     r"expected 'classes' as 2 distinct names; got \['a'\]"),
    ("record: fewer labels than classes", then(legacy_record(labels=["a"]), *PREDICT), 1,
     r"expected 'labels' as 2 values, one per class; got \['a'\]"),
    ("record: a negative length", then(legacy_record(length=-5), "evaluate", "{w}/run"), 1,
     r"expected 'length' and 'horizon' >= 0; got -5, 0"),
    ("record: an unknown normalization", then(legacy_record(normalize="minmax"), *PREDICT), 1,
     r"expected 'normalize' one of channel, series, none; got 'minmax'"),
    ("onnx: not an ONNX file", then(write("bad.onnx", b"garbage"), *PREDICT, "--model",
                                    "{w}/bad.onnx"), 1,
     r"bad\.onnx: not a readable ONNX model"),
    ("onnx: an empty file", then(write("bad.onnx", b""), *PREDICT, "--model", "{w}/bad.onnx"), 1,
     r"bad\.onnx: not a readable ONNX model"),
    # one line, never a traceback
    ("one line: a YAML alias", config("x: &a y\ndata: *a\n"), 1,
     r"c\.yaml: not valid YAML: found an alias \(\*name\); config files take plain values"),
    ("one line: a huge value in a config", config(
        "data: [" + ", ".join(["1"] * 20000) + "]\n"), 1,
     r"expected data of type str; got \[1, 1, 1, .*\.\.\. \(60000 characters\)"),
    ("one line: a config nested too deeply", config("a: " + "[" * 5000 + "]" * 5000 + "\n"), 1,
     r"c\.yaml: (nested too deeply to be a config file|not valid YAML)"),
    ("one line: a config key that is a number", config("1: 2\n"), 1,
     r"unknown setting '1'; expected some of"),
    ("one line: negative ragged lengths", npz(X=np.zeros((4, 1)), y=np.zeros(2),
                                              lengths=np.array([-2, 6])), 1,
     r"bad\.npz: expected lengths >= 1 \(steps per sample\); got values \[-2, 6\]"),
    ("one line: zero samples", npz(X=np.zeros((0, 3, 1)), y=np.zeros(0)), 1,
     r"bad\.npz: expected at least one sample; got X of shape \(0, 3, 1\)"),
    ("one line: zero samples to predict", then(savez("zero.npz", X=np.zeros((0, 24, 2))),
                                               "predict", "{w}/run", "--input", "{w}/zero.npz",
                                               "--output", "{w}/p.csv"), 1,
     r"zero\.npz: expected at least one sample; got X of shape \(0, 24, 2\)"),
    ("one line: X of zero dimensions", npz(X=np.array(1.0), y=np.zeros(2)), 1,
     r"bad\.npz: expected X \(N, T, C\) or ragged \(sum of lengths, C\); got a single number"),
    ("one line: y of zero dimensions", npz(X=np.zeros((2, 3, 1)), y=np.array(1.0)), 1,
     r"bad\.npz: expected y of shape \(N,\); got a single value"),
    ("one line: regression y without columns", npz(X=np.zeros((2, 3, 1)), y=np.zeros((2, 0))),
     1, r"bad\.npz: expected regression targets y \(N,\) or \(N, k\) with k >= 1; got shape "
        r"\(2, 0\)"),
    ("one line: summary of a run with an empty checkpoint", then(
        write("run/checkpoints/best.ckpt", b""), "summary", "{w}/run"), 1,
     r"timedist summary: error: .*best\.ckpt: not a readable checkpoint"),
    ("one line: evaluate a file", lambda w: ["evaluate", str(w / "good.ts")], 1,
     r"good\.ts: not a timedist run directory \(it is a file\)"),
    # special files where a file is expected: refused before they are opened
    ("special: the run's lock is a FIFO (evaluate)", then(fifo("run/.timedist.lock"),
                                                          "evaluate", "{w}/run"), 1,
     r"run/\.timedist\.lock: is a FIFO \(named pipe\), not a file"),
    ("special: the run's lock is a FIFO (predict)", then(fifo("run/.timedist.lock"), *PREDICT),
     1, r"run/\.timedist\.lock: is a FIFO \(named pipe\), not a file"),
    ("special: the run's lock is a FIFO (fit --overwrite)", then(
        fifo("run/.timedist.lock"), "fit", "--data", "{w}/good.ts", "--out", "{w}/run",
        "--overwrite"), 1, r"run: --overwrite replaces only what timedist wrote, and this "
                           r"folder also holds \.timedist\.lock \(not a plain file\)"),
    ("special: the run's lock is a folder", then(folder_at("run/.timedist.lock"), *PREDICT), 1,
     r"run/\.timedist\.lock: the run's lock is not a plain file"),
    ("special: metrics.json is a FIFO (fit --overwrite)", then(
        fifo("run/metrics.json"), "fit", "--data", "{w}/good.ts", "--out", "{w}/run",
        "--overwrite"), 1, r"also holds metrics\.json \(not a plain file\)"),
    ("special: the best checkpoint is a FIFO", then(fifo("run/checkpoints/best.ckpt"),
                                                   *PREDICT), 1,
     r"best\.ckpt: is a FIFO \(named pipe\), not a file"),
    ("special: config.yaml is a FIFO (--resume)", then(fifo("net/config.yaml"), "fit",
                                                        "--resume", "{w}/net"), 1,
     r"net/config\.yaml: is a FIFO \(named pipe\), not a file"),
    ("special: the record is a FIFO", then(fifo("run/preprocessing.json"), *PREDICT), 1,
     r"preprocessing\.json: is a FIFO \(named pipe\), not a file"),
    ("special: --config is a FIFO", then(fifo("c.yaml"), "fit", "--config", "{w}/c.yaml",
                                         "--out", "{w}/new"), 1,
     r"c\.yaml: is a FIFO \(named pipe\), not a file"),
    ("special: --data is a FIFO", then(fifo("f.ts"), "fit", "--data", "{w}/f.ts", "--out",
                                       "{w}/new"), 1, r"f\.ts: not a regular file"),
    ("special: --input is a FIFO", then(fifo("f.npz"), "predict", "{w}/run", "--input",
                                        "{w}/f.npz", "--output", "{w}/p.csv"), 1,
     r"f\.npz: not a regular file"),
    # paths mean what was typed
    ("paths: --output in a folder that does not exist", lambda w: [
        *PREDICT[:-1], str(w / "nope" / "p.csv")], 1,
     r"--output .*nope/p\.csv: no such folder .*nope \(timedist creates no folders"),
    ("paths: export --out in a folder that does not exist", lambda w: [
        "export", str(w / "run"), "--out", str(w / "nope" / "m.onnx")], 1,
     r"m\.onnx: no such folder"),
    ("paths: --out below a file", lambda w: [
        "fit", "--data", str(w / "good.ts"), "--out", str(w / "good.ts" / "sub")], 1,
     r"--out .*good\.ts/sub: .*good\.ts is a file; expected a folder for the run"),
    ("special: --output a FIFO, --overwrite", then(fifo("p.csv"), *PREDICT, "--overwrite"), 1,
     r"--output .*p\.csv: is a FIFO \(named pipe\), not a file; expected a plain file"),
    ("special: export --out a character device, --overwrite", then(
        lambda w: os.symlink("/dev/null", w / "m.onnx"), "export", "{w}/run", "--out",
        "{w}/m.onnx", "--overwrite"), 1,
     r"m\.onnx: is a character device, not a file; expected a plain file"),
    ("run dir: evaluation/ is a file (evaluate)", then(
        lambda w: (w / "run" / "evaluation").write_text("mine\n"), "evaluate", "{w}/run"), 1,
     r"run/evaluation: is a file; expected the folder timedist writes evaluation\.json in"),
    ("proof: a marker nested 100,000 deep", then(
        lambda w: (w / "run" / ".timedist-run.json").write_text("[" * 100_000 + "]" * 100_000),
        "evaluate", "{w}/run"), 1,
     r"run/\.timedist-run\.json: not a marker timedist wrote \(not valid JSON: maximum "
     r"recursion depth exceeded"),
    ("paths: --output with a 300-character name", lambda w: [
        *PREDICT[:-1], str(w / ("x" * 300 + ".csv"))], 1,
     r"error: \S{60,100}\.\.\.\(\d+ characters\)\.\.\.x{90,}\.csv: File name too long$"),
    ("paths: --out 5,000 characters long", lambda w: [
        "fit", "--data", str(w / "good.ts"), "--out", "/".join(["d" * 250] * 20)], 1,
     r"^timedist fit: error: .{0,400}\(\d+ characters\).{0,200}File name too long$"),
    ("paths: --output ''", lambda w: [*PREDICT[:-1], ""], 2,
     r"argument --output: expected a path; got ''"),
    ("paths: --input ''", lambda w: ["predict", str(w / "run"), "--input", "", "--output",
                                     str(w / "p.csv")], 2,
     r"argument --input: expected a path; got ''"),
    ("paths: --data ''", lambda w: ["fit", "--data", "", "--out", str(w / "new")], 2,
     r"argument --data: expected a path; got ''"),
    ("paths: --out ''", lambda w: ["fit", "--data", str(w / "good.ts"), "--out", ""], 2,
     r"argument --out: expected a path; got ''"),
    ("paths: RUN_DIR ''", lambda w: ["evaluate", ""], 2,
     r"argument RUN_DIR: expected a path; got ''"),
    ("paths: a file with a trailing /", lambda w: ["fit", "--data", str(w / "good.ts") + "/",
                                                  "--out", str(w / "new")], 2,
     r"good\.ts/: is a file, not a folder \(a path ending in / names a folder\)"),
    ("paths: --out a link to nowhere", then(link_to("L", "nowhere"), "fit", "--data",
                                            "{w}/good.ts", "--out", "{w}/L"), 1,
     r"--out .*L: is a link to .*nowhere, which does not exist"),
    ("paths: --out a link to nowhere, --overwrite", then(
        link_to("L", "nowhere"), "fit", "--data", "{w}/good.ts", "--out", "{w}/L",
        "--overwrite"), 1, r"--out .*L: is a link to .*nowhere, which does not exist"),
    # numbers torch cannot read as they are
    ("numbers: complex X", npz(X=SIGNALS * (1 + 1j), y=LABELS), 1,
     r"bad\.npz: expected real numbers in X; got complex values \(dtype complex128\)"),
    ("numbers: complex y", npz(X=SIGNALS, y=np.arange(4) * (1 + 1j)), 1,
     r"bad\.npz: expected real numbers in y; got complex values"),
    ("numbers: timedelta X", npz(X=np.zeros((4, 5, 1), dtype="m8[s]"), y=LABELS), 1,
     r"bad\.npz: expected numbers in X; got dtype timedelta64\[s\]"),
    ("numbers: float y with 'classes'", npz(X=SIGNALS, y=np.array([0.0, 1.0] * 2),
                                            classes=np.array(["a", "b"])), 1,
     r"bad\.npz: 'classes' declares classes, but y holds float values \(\[0\.0, 1\.0\]\)"),
    # labels that look alike, or show nothing
    ("labels: a zero-width label", npz(X=SIGNALS, y=np.array(["a", "\u200b", "a", "b"])), 1,
     r"bad\.npz: y: expected a non-blank label; got '\\u200b'"),
    ("labels: a label and its zero-width twin", npz(X=SIGNALS, y=np.array(
        ["cat", "cat\u200b", "cat", "dog"])), 1,
     r"bad\.npz: y: labels 'cat' and 'cat\\u200b' both read as 'cat'"),
    ("labels: an accent composed and not", ts(TS_LABELS.format(a="\u00e9", b="e\u0301")), 1,
     r"bad\.ts.*both read as 'é'"),
    ("labels: a full-width twin", npz(X=SIGNALS, y=np.array(["A", "\uff21", "A", "b"])), 1,
     r"both read as 'A'"),
    ("labels: a clip folder named ' '", then(clip_label_folder(" "), "fit", "--data",
                                            "{w}/clips", "--out", "{w}/new"), 1,
     r"clips: expected a non-blank label; got ' '"),
    # settings that would be ignored without a word
    ("settings: --fps for signals", fit_with("--fps", "5"), 1,
     r"--fps 5\.0: applies to own videos .*; this run is classification of signals with "
     r"rocket: drop it"),
    ("settings: --grayscale for signals", fit_with("--grayscale"), 1,
     r"--grayscale True: applies to own videos"),
    ("settings: --epochs for rocket", fit_with("--epochs", "3"), 1,
     r"--epochs 3: applies to networks \(not rocket\); this run is classification of signals "
     r"with rocket"),
    ("settings: --hidden-size for rocket", fit_with("--hidden-size", "8"), 1,
     r"--hidden-size 8: applies to the recurrent models \(cnn-lstm, sequence, "
     r"conv-lstm-forecaster\); this run is classification of signals with rocket"),
    ("settings: --hidden-size for a convolutional network", fit_with(
        "--model", "fcn", "--hidden-size", "8"), 1,
     r"--hidden-size 8: applies to the recurrent models .*with fcn: drop it"),
    ("settings: --dropout for a convolutional network", fit_with(
        "--model", "inception", "--dropout", "0.3"), 1,
     r"--dropout 0\.3: applies to the models with recurrent layers \(cnn-lstm, sequence\); "
     r"this run is classification of signals with inception"),
    ("settings: --cell for a convolutional network", fit_with(
        "--model", "resnet", "--cell", "gru"), 1,
     r"--cell 'gru': applies to the models with recurrent layers"),
    ("settings: --bidirectional for a convolutional network", fit_with(
        "--model", "fcn", "--bidirectional"), 1,
     r"--bidirectional True: applies to the models with recurrent layers"),
    ("settings: --num-layers for the forecaster", fit_with(
        "--data", "moving-digits-forecast", "--num-layers", "2"), 1,
     r"--num-layers 2: applies to the models with recurrent layers .*; this run is frames of "
     r"image sequences with conv-lstm-forecaster"),
    ("settings: --steps beside --epochs", fit_with(
        "--model", "fcn", "--epochs", "2", "--steps", "500"), 1,
     r"--steps 500 and --epochs 2: expected one of them \(--epochs sets the length: 2 epochs "
     r"are 2 steps of batch 32 here; --steps would be ignored\)"),
    ("settings: steps and epochs that disagree in one config", config(
        "data: good.ts\nmodel: fcn\nepochs: 2\nsteps: 500\n"), 1,
     r"c\.yaml: --steps 500 and --epochs 2: expected one of them .*: give one \(either one, "
     r"given on the command line, replaces the other from a config file\)"),
    ("settings: --members for a network", fit_with("--model", "fcn", "--members", "2"), 1,
     r"--members 2: applies to the rocket model; this run is classification of signals with "
     r"fcn"),
    ("settings: --relative for classification", fit_with("--model", "sequence", "--relative"),
     1, r"--relative True: applies to the sequence model on regression targets; this run is "
        r"classification of signals with sequence: drop it"),
    ("settings: --subsequences for rocket", fit_with("--subsequences", "6"), 1,
     r"--subsequences 6: applies to the cnn-lstm model on signals; this run is "
     r"classification of signals with rocket"),
    ("settings: num_features for a network in a config", config(
        "data: good.ts\nmodel: fcn\nnum_features: 500\n"), 1,
     r"--num-features 500: applies to the rocket model"),
    # a run whose proof is gone or does not cover what is read
    ("proof: the marker removed from a run that had one", then(
        both(legacy("run"), shift_means("run")), *PREDICT), 1,
     r"run: its \.timedist-run\.json is missing, though timedist wrote one for this run"),
    ("proof: the marker removed, another run's checkpoint", then(
        both(legacy("run"), copy_file("net/checkpoints/best.ckpt",
                                      "run/checkpoints/best.ckpt")), *PREDICT), 1,
     r"its \.timedist-run\.json is missing"),
    ("proof: the record's entry null", then(both(edit_marker(
        "run", **{"preprocessing.json": None}), shift_means("run")), *PREDICT), 1,
     r"preprocessing\.json: the run's marker does not record it as written"),
    ("proof: the record's entry removed", then(both(edit_marker(
        "run", drop="preprocessing.json"), shift_means("run")), "evaluate", "{w}/run"), 1,
     r"preprocessing\.json: the run's marker does not record it as written"),
    ("proof: the checkpoint's entry removed", then(edit_marker(
        "run", drop="checkpoints/best.ckpt"), *PREDICT), 1,
     r"best\.ckpt: the run's marker does not record it as written"),
    ("proof: resume after the record was edited", then(
        both(unfinished("net"), shift_means("net")), "fit", "--resume", "{w}/net"), 1,
     r"net/preprocessing\.json: changed after timedist wrote it"),
    ("proof: resume from another run's last checkpoint", then(
        both(unfinished("net"), copy_file("run/checkpoints/last.ckpt",
                                          "net/checkpoints/last.ckpt")),
        "fit", "--resume", "{w}/net"), 1,
     r"net/checkpoints/last\.ckpt: changed after timedist wrote it"),
    ("proof: evaluate after config.yaml's seed was edited", then(
        held_out_run, "evaluate", "{w}/held"), 1,
     r"held: the validation split is not the one the run held out .*seed, val_split or "
     r"subset edited in config\.yaml"),
    # the seventh probe's classes
    ("ts: class labels and regression targets both declared", ts(
        "@classLabel true a b\n@targetLabel true\n@data\n1,2:a\n"), 1,
     r"bad\.ts, line 2: expected @classLabel or @targetLabel, not both"),
    ("ts: regression targets, then class labels", ts(
        "@targetLabel true\n@classLabel true a b\n@data\n1,2:1\n"), 1,
     r"bad\.ts, line 2: expected @classLabel or @targetLabel, not both"),
    ("ts: more steps than @seriesLength", ts(
        "@seriesLength 3\n" + HEADER + "1,2,3:a\n1,2,3,4,5,6:b\n"), 1,
     r"bad\.ts, line 5: expected 3 steps \(@seriesLength\); got 6"),
    ("ts: a digit separator in a value", ts(HEADER + "1_000,2:a\n2,1:b\n"), 1,
     r"bad\.ts, line 3: expected a number, '\?' or NaN; got '1_000'"),
    ("ts: full-width digits", ts(HEADER + "\uff11,2:a\n2,1:b\n"), 1,
     "bad\\.ts, line 3: expected a number, '\\?' or NaN; got '\uff11'"),
    ("ts: 'infinity' spelled out", ts(HEADER + "Infinity,2:a\n2,1:b\n"), 1,
     r"bad\.ts, line 3: expected a finite number .*got 'Infinity'"),
    ("flag: summary with a negative size", lambda w: [
        "summary", "td-dense", "--input-size", "4,-12,8"], 2,
     r"argument --input-size: expected shapes of positive sizes .*got '4,-12,8'"),
    ("flag: summary with a zero size", lambda w: [
        "summary", "td-dense", "--input-size", "4,12,8;0,3"], 2,
     r"argument --input-size: expected shapes of positive sizes"),
    ("flag: summary with a negative depth", lambda w: ["summary", "td-dense", "--depth", "-5"],
     2, r"argument --depth: expected an integer >= 0; got '-5'"),
    ("settings: a Lightning strategy for rocket", fit_with("--devices", "2", "--strategy",
                                                           "fsdp"), 1,
     r"--strategy fsdp: rocket starts its own processes; expected auto or ddp"),
    ("settings: a Lightning strategy for a chosen rocket", fit_with("--strategy", "deepspeed"),
     1, r"--strategy deepspeed: rocket starts its own processes; expected auto or ddp"),
    ("settings: --workers for signals", fit_with("--model", "fcn", "--workers", "2"), 1,
     r"--workers 2: applies to own videos \(a folder or manifest of clips\); this run is "
     r"classification of signals with fcn"),
    ("clips: an empty clip folder among clips", then(
        both(clip_label_folder("b"), lambda w: (w / "clips/b/c9").mkdir()), *fit_clips()), 1,
     r"clips/b/c9: expected frames \.jpg/\.jpeg/\.png; found an empty folder"),
    ("clips: a clip folder of text files", then(both(
        clip_label_folder("b"), write("clips/b/c9/notes.txt", "x")), *fit_clips()), 1,
     r"clips/b/c9: expected frames .*; found only notes\.txt$"),
    ("clips: clips one folder too deep", then(both(
        clip_label_folder("b"), clips("clips/b/session/c3.mp4")), *fit_clips()), 1,
     r"clips/b/session: expected frames .*; found only c3\.mp4$"),
    ("clips: a manifest listing a clip under two labels", then(both(
        clips("a/c1.mp4", "b/c2.mp4"),
        write("m.csv", "path,label\na/c1.mp4,x\nb/c2.mp4,y\na/c1.mp4,y\n")),
        *fit_clips("{w}/m.csv")), 1,
     r"m\.csv: line 4: expected each clip once; 'a/c1\.mp4' is listed on line 2 already "
     r"with another label \('x', here 'y'\)"),
    ("clips: a manifest listing a clip twice", then(both(
        clips("a/c1.mp4", "b/c2.mp4"),
        write("m.csv", "path,label\na/c1.mp4,x\nb/c2.mp4,y\n./a/c1.mp4,x\n")),
        *fit_clips("{w}/m.csv")), 1,
     r"m\.csv: line 4: expected each clip once; '\./a/c1\.mp4' is listed on line 2 already$"),
    ("npz: an array stored twice", then(duplicate_member, "fit", "--data", "{w}/dup.npz",
                                        "--out", "{w}/new"), 1,
     r"dup\.npz: expected each array once; \['X'\] is stored twice in the archive"),
    ("npz: classes of two axes", npz(X=SIGNALS, y=LABELS, classes=np.array([["a", "b"]])),
     1, r"bad\.npz: expected classes as a 1-D array of names \(K,\); got shape \(1, 2\)"),
    ("npz: no channels", npz(X=np.zeros((4, 5, 0)), y=LABELS), 1,
     r"bad\.npz: expected at least one step and one channel in X \(\(N, T, C, \.\.\.\)\); "
     r"got shape \(4, 5, 0\)"),
    ("npz: no steps", npz(X=np.zeros((4, 0, 2)), y=LABELS), 1,
     r"bad\.npz: expected at least one step and one channel in X"),
    ("npz: ragged without channels", npz(X=np.zeros((5, 0)), y=LABELS[:2],
                                         lengths=np.array([2, 3])), 1,
     r"bad\.npz: expected at least one step and one channel in X \(\(sum of lengths, C\)\)"),
    ("run dir: a folder of the user's as --out", then(
        write("proj/notes.txt", "mine"), "fit", "--data", "{w}/good.ts", "--out", "{w}/proj"),
     1, r"proj: not a run timedist can prove it wrote \(no \.timedist-run\.json\); "
        r"--overwrite replaces only timedist's own runs"),
    ("run dir: the current folder as --out", then(
        write("notes.txt", "mine"), "fit", "--data", "{w}/good.ts", "--out", "."), 1,
     r"\.: not a run timedist can prove it wrote"),
    ("run dir: checkpoints/ is a file", then(
        both(lambda w: shutil.rmtree(w / "run/checkpoints"), write("run/checkpoints", "x")),
        *PREDICT), 1, r"run/checkpoints: is a file; expected the run's checkpoints/ folder"),
    ("run dir: config.yaml is a folder", then(
        both(lambda w: (w / "run/config.yaml").unlink(), lambda w: (
            w / "run/config.yaml").mkdir()), *PREDICT), 1,
     r"run/config\.yaml: is a folder; expected the run's config\.yaml file"),
    ("run dir: preprocessing.json is a folder", then(
        both(lambda w: (w / "run/preprocessing.json").unlink(), lambda w: (
            w / "run/preprocessing.json").mkdir()), "evaluate", "{w}/run"), 1,
     r"run/preprocessing\.json: is a folder; expected the run's preprocessing\.json file"),
    ("output: predict into a device", lambda w: [*PREDICT[:-1], "/dev/null"], 1,
     r"--output /dev/null: is a character device, not a file"),
    # the eighth probe's classes
    ("ts: a tag given twice with other values", ts(
        "@dimensions 2\n@dimensions 1\n" + HEADER + "1:2:a\n"), 1,
     r"bad\.ts, line 2: expected @dimensions once; given before as '2', here '1'"),
    ("ts: class labels declared twice differently", ts(
        "@classLabel true a b\n@classLabel true b c\n@data\n1:b\n"), 1,
     r"bad\.ts, line 2: expected @classLabel once; given before as 'true a b', here "
     r"'true b c'"),
    ("ts: a fractional @seriesLength", ts("@seriesLength 3.0\n" + HEADER + "1,2,3:a\n"), 1,
     r"bad\.ts, line 1: expected @seriesLength <steps>, a positive integer; got '3\.0'"),
    ("ts: a negative @seriesLength", ts("@seriesLength -3\n" + HEADER + "1,2,3:a\n"), 1,
     r"bad\.ts, line 1: expected @seriesLength <steps>, a positive integer; got '-3'"),
    ("ts: errors name the file, not @problemName", then(
        write("two.ts", "@problemName train\n@classLabel true a b\n@data\n1:2:3:a\n"),
        "evaluate", "{w}/run", "--data", "{w}/two.ts"), 1,
     r"two\.ts: expected steps of shape \(2,\) like the training data; got \(3,\)"),
    ("clips: a label folder without clips", then(
        both(clip_label_folder("b"), lambda w: (w / "clips/c/.ipynb_checkpoints").mkdir(
            parents=True)), *fit_clips()), 1,
     r"clips/c: a label folder without clips .*: add clips, or move it out so its class is "
     r"not trained on"),
    ("clips: a timedist run among the clips", then(
        both(clip_label_folder("b"), lambda w: shutil.copytree(w / "run", w / "clips/b/old")),
        *fit_clips()), 1,
     r"clips/b/old: is a timedist run folder, not clips; move it out of .*clips"),
    ("clips: one clip linked under two labels", then(
        both(clip_label_folder("b"), lambda w: (w / "clips/b/c9").symlink_to(
            w / "clips/a/c1")), *fit_clips()), 1,
     r"clips/a/c1 and .*clips/b/c9 are the same clip \(a link\); expected each clip once, "
     r"under one label"),
    ("clips: predict on a folder holding a run", then(
        lambda w: shutil.copytree(w / "run", w / "inputs/old"), "predict", "{w}/clip",
        "--input", "{w}/inputs", "--output", "{w}/p.csv"), 1,
     r"inputs/old: is a timedist run folder, not clips; move it out of .*inputs"),
    ("settings: --batch-size for rocket", fit_with("--batch-size", "3"), 1,
     r"--batch-size 3: applies to networks \(not rocket\)"),
    ("flag: explain a kernel larger than the image", lambda w: [
        "explain", "conv2d", "--kernel-size", "9", "--height", "4", "--width", "4"], 2,
     r"explain conv2d: --kernel-size 9: expected at most --height/--width \(4\)"),
    ("flag: explain TimeDistributed with a kernel larger than the frame", lambda w: [
        "explain", "time-distributed", "--kernel-size", "99", "--size", "4"], 2,
     r"explain time-distributed: --kernel-size 99: expected at most --size \(4\)"),
    ("flag: explain a projection as wide as the state", lambda w: [
        "explain", "lstm", "--proj-size", "8", "--hidden-size", "8"], 2,
     r"explain lstm: --proj-size 8: expected less than --hidden-size 8 \(or 0\)"),
    ("flag: explain a million layers", lambda w: ["explain", "lstm", "--num-layers", "1000000"],
     2, r"argument --num-layers: expected an integer >= 1 and <= 64; got '1000000'"),
    ("flag: explain a linear option with --module conv2d", lambda w: [
        "explain", "time-distributed", "--units", "5"], 2,
     r"explain time-distributed: --units applies to --module linear; this is --module conv2d"),
    ("flag: summary of a factory that runs timedist", lambda w: [
        "summary", "timedist.cli:main"], 2,
     r"summary: expected timedist\.cli:main to be an nn\.Module, .*calling it failed: "
     r"RuntimeError: timedist's command line was called by a model factory"),
    ("config: an empty data path", config("data: ''\nmodel: rocket\n"), 1,
     r"c\.yaml: expected data: a built-in dataset, a file or a folder; got ''"),
    ("config: a Python run's config.yaml", config("data: (arrays)\nmodel: rocket\n"), 1,
     r"data \(arrays\): that run was fitted in Python on arrays; pass --data FILE"),
    ("output: a new file path ending in /", lambda w: [*PREDICT[:-1], "{w}/new.csv/"], 1,
     r"--output .*new\.csv/: ends in / \(a folder's name\); expected a file path"),
    ("clips: --cache inside another run", then(clip_label_folder("b"), *fit_clips(
        "{w}/clips", "--cache", "{w}/run/cache")), 1,
     r"--cache .*run/cache: is inside the timedist run .*run; choose a folder outside runs"),
    ("clips: --cache naming a file", then(clip_label_folder("b"), *fit_clips(
        "{w}/clips", "--cache", "{w}/good.ts")), 1,
     r"--cache .*good\.ts: is a file; expected a folder for decoded clips"),
    ("clips: a run folder as the data", lambda w: ["fit", "--data", str(w / "run"), "--out",
                                                   str(w / "new")], 1,
     r"run: is a timedist run folder, not clips$"),
    ("output: predict into a run folder", lambda w: [*PREDICT[:-1], "{w}/run/checkpoints/p.csv"],
     1, r"--output .*run/checkpoints/p\.csv: is inside the timedist run .*run \(a file of yours "
        r"there would keep --overwrite from replacing the run\); choose another file"),
    ("run dir: an unknown setting in a run's config.yaml", then(
        write("run/config.yaml", "colour: blue\n"), *PREDICT), 1,
     r"run/config\.yaml: unknown setting 'colour'"),
    ("run dir: a marker that says training beside metrics.json", then(
        lambda w: (w / "run/.timedist-run.json").write_text(
            (w / "run/.timedist-run.json").read_text().replace('"complete"', '"training"')),
        *PREDICT), 1,
     r"run: the run has not finished \(it was stopped, or is still training: its marker "
     r"records it as 'training'\)"),
    # the ninth probe's classes
    ("clips: a manifest window on a frame folder", then(
        both(clip_label_folder("b"), write("m.csv", "path,label,start,end\nclips/a/c1,a,10,20\n"
                                                    "clips/b/c2,b\n")), *fit_clips("{w}/m.csv")),
     1, r"m\.csv: line 2: clips/a/c1: a window \(start,end in seconds\) needs a video"),
    ("clips: two frames of one number", then(
        both(clip_label_folder("b"), lambda w: shutil.copy(w / "clips/a/c1/00001.png",
                                                           w / "clips/a/c1/1.png")),
        *fit_clips()), 1,
     r"clips/a/c1: frames (00001\.png and 1\.png|1\.png and 00001\.png) have the same number"),
    ("test file: a run's record as --test-data", lambda w: [
        "fit", "--data", str(w / "good.ts"), "--test-data", str(w / "run/preprocessing.json"),
        "--out", str(w / "new")], 1,
     r"--test-data .*preprocessing\.json: expected a file ending in \.ts, \.npz, \.csv, \.tsv, "
     r"\.parquet, \.txt or \.arff \(\.gz too\)$"),
]


def run_cli(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as error:  # argparse's usage errors
        return int(error.code or 0)


@pytest.mark.parametrize(("setup", "status", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_bad_input_is_one_clear_line_and_changes_nothing(
        setup: Callable[[Path], list[str]], status: int, message: str, work: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIMEDIST_DEBUG", raising=False)
    monkeypatch.chdir(work)
    args = [a.replace("{w}", str(work)) for a in setup(work)]
    capsys.readouterr()  # (the notes of a setup's quiet fit)
    before = snapshot(work)
    assert run_cli(args) == status
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err  # usage errors too: one line
    assert snapshot(work) == before


# --- layer and estimator inputs (Python): the exception names the shape or value ------------

def rocket() -> RocketModel:
    return RocketModel(2, 10, 2, members=1, num_features=84).fit(
        torch.randn(6, 10, 2), torch.arange(6) % 2)


LAYER_CASES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    ("TimeDistributed: no time axis", lambda: timedist.TimeDistributed(torch.nn.Linear(3, 2))(
        torch.randn(4, 3)), ValueError, r"TimeDistributed\(Linear\): expected input \(B, T, "
                                        r"\.\.\.\) of rank >= 3; got shape \(4, 3\)"),
    ("LSTM: other features", lambda: timedist.LSTM(3, 4)(torch.randn(2, 5, 6)), ValueError,
     r"LSTM: expected input \(B, T, F\) with F=3 and T >= 1; got shape \(2, 5, 6\)"),
    ("LSTM: float lengths", lambda: timedist.LSTM(3, 4)(torch.randn(2, 5, 3),
                                                        lengths=torch.tensor([5.0, 2.5])),
     ValueError, r"expected lengths \(B,\) = \(2,\) of integers in \[1, T=5\]; got shape \(2,\) "
                 r"and dtype torch\.float32"),
    ("LSTM: a length beyond T", lambda: timedist.LSTM(3, 4)(torch.randn(2, 5, 3),
                                                            lengths=torch.tensor([6, 2])),
     ValueError, r"with values \[6, 2\]"),
    ("LSTM: a mask with a hole", lambda: timedist.LSTM(3, 4)(
        torch.randn(1, 3, 3), mask=torch.tensor([[True, False, True]])), ValueError,
     r"expected a \(B, T\) prefix mask .*whose sample 0 is \[1, 0, 1\]"),
    ("ConvLSTM2d: other channels", lambda: timedist.ConvLSTM2d(3, 4, 3)(torch.randn(1, 2, 2, 5, 5)),
     ValueError, r"ConvLSTM2d: expected input .* got shape \(1, 2, 2, 5, 5\)"),
    ("RocketModel: other channels", lambda: rocket()(torch.randn(2, 10, 3)), ValueError,
     r"RocketModel: expected input \(B, T, C\) with C=2; got shape \(2, 10, 3\)"),
    ("FCN: no channel axis", lambda: FCN(1, 2)(torch.randn(4, 30)), ValueError,
     r"FCN: expected input \(B, T, C\) with C=1; got shape \(4, 30\)"),
    ("estimator: X of four axes", lambda: TimeSeriesClassifier(members=1).fit(
        np.zeros((4, 5, 1, 1)), [0, 1, 0, 1]), ValueError,
     r"expected X of shape \(N, T\) or \(N, T, C\); got shape \(4, 5, 1, 1\)"),
    ("estimator: infinities", lambda: TimeSeriesClassifier(members=1).fit(
        np.full((4, 5), np.inf), [0, 1, 0, 1]), ValueError, r"Input X contains infinity"),
    ("estimator: one class", lambda: TimeSeriesClassifier(members=1).fit(
        np.random.rand(4, 5), [1, 1, 1, 1]), ValueError,
     r"expected at least 2 classes in y; got 1 class \(1\)"),
    ("estimator: fewer targets", lambda: TimeSeriesClassifier(members=1).fit(
        np.random.rand(4, 5), [0, 1, 0]), ValueError, r"inconsistent numbers|3 targets for 4"),
    ("estimator: a setting of the wrong type", lambda: TimeSeriesClassifier(
        batch_size="32").fit(np.random.rand(4, 5), [0, 1, 0, 1]), ValueError,
     r"expected batch_size of type int; got '32'"),
    ("estimator: a fractional ensemble", lambda: TimeSeriesClassifier(members=1.5).fit(
        np.random.rand(4, 5), [0, 1, 0, 1]), ValueError,
     r"expected members of type int or null \(chosen from the data\); got 1\.5"),
    ("estimator: a negative random_state", lambda: TimeSeriesClassifier(random_state=-5).fit(
        np.random.rand(4, 5), [0, 1, 0, 1]), ValueError, r"expected 0 <= seed < 2\*\*32; got -5"),
    ("estimator: an empty series in a list", lambda: TimeSeriesClassifier(members=1).fit(
        [np.ones(5), np.ones(0), np.ones(3), np.ones(4)], [0, 1, 0, 1]), ValueError,
     r"TimeSeriesClassifier: expected X\[1\] of at least one step; got an empty series"),
    ("estimator: None among text labels", lambda: TimeSeriesClassifier(members=1).fit(
        np.random.rand(4, 5), np.array(["a", None, "b", "a"], dtype=object)), ValueError,
     r"TimeSeriesClassifier: expected a label for every series in y; got a missing value "
     r"\(None\) at index 1"),
    ("estimator: a missing date among date labels", lambda: TimeSeriesClassifier(
        members=1).fit(np.random.rand(4, 5), np.array(["2020-01-01", "2021-01-01", "NaT",
                                                       "2020-01-01"], dtype="datetime64[D]")),
     ValueError, r"expected a label for every series in y; got a missing value \(NaT: a "
                 r"missing date or duration\) at index 2"),
    ("estimator: a list of text and numbers that read the same", lambda: TimeSeriesClassifier(
        members=1).fit(np.random.rand(4, 5), ["1", 1, "1", 1]), ValueError,
     r"expected labels of one kind in y \(all numbers, all text or all booleans\); got "
     r"integer \(1\), text \('1'\)"),
    ("estimator: a list of booleans and integers", lambda: TimeSeriesClassifier(
        members=1).fit(np.random.rand(4, 5), [True, 1, False, 0]), ValueError,
     r"expected labels of one kind .*; got boolean \(True\), integer \(1\)"),
    ("estimator: integer labels past 64 bits", lambda: TimeSeriesClassifier(members=1).fit(
        np.random.rand(4, 5), [2**70, 1, 2**70, 1]), ValueError,
     r"expected integer labels within 64 bits \(or text\); got 1180591620717411303424: pass "
     r"them as str"),
    ("estimator: complex values", lambda: TimeSeriesClassifier(members=1).fit(
        np.random.rand(4, 5) + 1j, [0, 1, 0, 1]), ValueError,
     r"TimeSeriesClassifier: expected real numbers in X; got complex values \(Complex data "
     r"not supported\): pass the real part, or real and imaginary parts as two channels$"),
    ("estimator: complex values in a list", lambda: TimeSeriesClassifier(members=1).fit(
        [np.ones(3), np.ones(4) * 1j, np.ones(3), np.ones(5)], [0, 1, 0, 1]), ValueError,
     r"expected real numbers in X\[1\]; got complex values"),
    ("estimator: a nested DataFrame (sktime)", lambda: TimeSeriesClassifier(members=1).fit(
        nested_frame(), [0, 1, 0, 1]), ValueError,
     r"expected X of numbers .*got cells that hold sequences \(a nested DataFrame as sktime "
     r"writes it, or rows of unequal length\): pass a list of arrays$"),
    ("estimator: a list of 3-D arrays", lambda: TimeSeriesClassifier(members=1).fit(
        [np.ones((5, 2, 2))] * 4, [0, 1, 0, 1]), ValueError,
     r"expected X\[0\] of shape \(T_i,\) or \(T_i, C\); got shape \(5, 2, 2\)"),
    ("estimator: pandas' NA among labels", lambda: TimeSeriesClassifier(members=1).fit(
        np.random.rand(4, 5), pd_na_labels()), ValueError,
     r"expected a label for every series in y; got a missing value \(<NA>\) at index 2"),
    ("estimator: score with a missing label", lambda: fitted_classifier().score(
        np.random.rand(4, 5), ["a", "b", None, "a"]), ValueError,
     r"expected a label for every series in y; got a missing value \(None\) at index 2"),
    ("estimator: a missing regression target", lambda: TimeSeriesRegressor(members=1).fit(
        np.random.rand(4, 5), [1.0, None, 2.0, 3.0]), ValueError,
     r"TimeSeriesRegressor: expected a target for every series in y; got a missing value "
     r"\(nan\) at index 1"),
    ("estimator: save to an empty path", lambda: fitted_classifier().save(""), ValueError,
     r"TimeSeriesClassifier\.save: expected a folder path; got ''"),
    ("LSTM: merge_mode for one direction", lambda: timedist.LSTM(5, 4, merge_mode="sum"),
     ValueError, r"LSTM: merge_mode applies to bidirectional=True \(one direction has nothing "
                 r"to merge\); got merge_mode='sum'"),
    ("estimator: another shape of the same length", lambda: fitted_classifier().predict(
        np.random.rand(4, 5, 1)), ValueError,
     r"TimeSeriesClassifier: expected X of shape \(N, 5\) like in fit; got shape \(N, 5, 1\)"),
    ("Bidirectional: a backward layer of another size to sum", lambda: timedist.Bidirectional(
        timedist.GRU(5, 3), backward_layer=timedist.GRU(5, 4, go_backwards=True),
        merge_mode="sum"), ValueError,
     r"Bidirectional\(GRU\): merge_mode='sum' adds or multiplies the two directions: expected "
     r"backward_layer of the same size as layer \(3\); got 4"),
    ("labels: two labels that read the same", lambda: label_names([b"cat", "cat"], "y"),
     ValueError, r"y: labels b'cat' and 'cat' both read as 'cat'; expected labels that differ"),
    ("keras weights: a bias of the wrong length", lambda: timedist.LSTM(3, 4).load_keras_weights(
        np.ones((3, 16)), np.ones((4, 16)), np.ones(12)), ValueError,
     r"expected a Keras bias \(16,\); got shape \(12,\)"),
    ("keras weights: a kernel of the wrong shape", lambda: timedist.GRU(3, 4).load_keras_weights(
        np.ones((2, 12)), np.ones((4, 12)), np.ones((2, 12))), ValueError,
     r"expected Keras kernel transposed to \(12, 3\); got shape \(12, 2\)"),
]


def nested_frame() -> Any:
    """sktime's nested layout: one column, each cell a pandas Series."""
    import pandas as pd

    return pd.DataFrame({"dim_0": [pd.Series(np.random.rand(5)) for _ in range(4)]})


def pd_na_labels() -> Any:
    import pandas as pd

    return pd.array(["a", "b", pd.NA, "a"], dtype=object)


def fitted_classifier() -> TimeSeriesClassifier:
    return TimeSeriesClassifier(members=1, num_features=168).fit(
        np.random.rand(4, 5), ["a", "b", "b", "a"])


@pytest.mark.parametrize(("call", "kind", "message"), [c[1:] for c in LAYER_CASES],
                         ids=[c[0] for c in LAYER_CASES])
def test_a_bad_layer_input_names_the_shape(call: Callable[[], Any], kind: type[Exception],
                                           message: str) -> None:
    with pytest.raises(kind, match=message):
        call()


def test_the_table_is_large_enough() -> None:
    assert len(CASES) + len(LAYER_CASES) >= 200
