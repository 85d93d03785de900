"""timedist.data.load: what `timedist fit --data X` trains on, for every kind of X."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from helpers import FIXTURES, assert_same_samples, frames, labels_of, write_video

from timedist.data import ClipDataset, SequenceDataset, load, load_dataset, read_ts, save_npz
from timedist.runs.config import resolve_config
from timedist.runs.prepare import load_splits

ITALY = FIXTURES / "ItalyPowerDemand_TRAIN.ts.gz"


def test_files_load_as_the_command_line_reads_them(tmp_path: Path) -> None:
    italy = read_ts(ITALY)
    ts = tmp_path / "italy.ts"
    ts.write_bytes(gzip.decompress(ITALY.read_bytes()))
    table = tmp_path / "italy.csv"
    table.write_text("label," + ",".join(f"t{i}" for i in range(24)) + "\n" + "".join(
        ",".join([label, *map(repr, s[:, 0].tolist())]) + "\n"
        for s, label in zip(italy.sequences, labels_of(italy), strict=True)))
    npz = tmp_path / "italy.npz"
    save_npz(italy, npz)
    for path in (ts, table, ITALY):
        assert_same_samples(load(path), italy)
        assert_same_samples(load(path), load_splits(resolve_config({"data": str(path)})).train)
    assert_same_samples(load(npz), italy)
    train, test = load_dataset("japanese-vowels")
    assert_same_samples(load("japanese-vowels", split="test"), test)
    assert_same_samples(load("japanese-vowels"), train)


def test_folders_load_by_split(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("test", 2)):
        for label in ("down", "up"):
            for i in range(count):
                folder = tmp_path / "rec" / split / label
                folder.mkdir(parents=True, exist_ok=True)
                np.save(folder / f"{i}.npy", np.full((5 + i, 2), float(i)))
    train = load(tmp_path / "rec")
    assert isinstance(train, SequenceDataset) and len(train) == 6 and train.classes == [
        "down", "up"]
    assert len(load(tmp_path / "rec", split="test")) == 4
    with pytest.raises(ValueError, match=r"expected a val/ folder; it has train/, test/"):
        load(tmp_path / "rec", split="val")
    clip = frames(4, 48)
    for label in ("a", "b"):
        write_video(tmp_path / "clips" / label / "c.mp4", clip)
    clips = load(tmp_path / "clips", frames=4)
    assert isinstance(clips, ClipDataset) and clips.classes == ["a", "b"]
    assert clips[0][0].shape == (4, 3, 48, 48)


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_data_frames_load_as_tables_do(library: str) -> None:
    """Wide and long frames (pandas and polars; a pandas (instance, time) index) give the
    .ts file's series and labels."""
    import pandas as pd
    import polars as pl

    italy = read_ts(ITALY)
    labels = labels_of(italy)
    wide = pd.DataFrame([s[:, 0].tolist() for s in italy.sequences],
                        columns=[f"t{i}" for i in range(24)])
    wide.insert(0, "class", labels)
    rows = [(f"s{i:02d}", t, s[t, 0].item(), labels[i]) for t in range(24)
            for i, s in enumerate(italy.sequences)]  # by time: each series' rows apart
    long = pd.DataFrame(rows, columns=["case_id", "timepoint", "x", "label"])
    frames = {"wide": wide, "long": long,
              "indexed": long.set_index(["case_id", "timepoint"])}
    if library == "polars":
        frames = {k: pl.from_pandas(f) for k, f in frames.items() if k != "indexed"}
    for frame in frames.values():
        assert_same_samples(load(frame), italy)
