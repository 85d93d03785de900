"""Folders of recordings (one series per .csv/.tsv/.npy/.parquet file, in label folders,
split folders or a manifest): read as the .ts twin, trained on with the same results, bad
files named (or skipped with --skip-bad), predictions one row per recording."""

from __future__ import annotations

import csv
import gzip
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import FIXTURES, assert_same_samples, labels_of

from timedist.cli import main
from timedist.data import SequenceDataset, TsFormatError, read_ts
from timedist.data.clips import find_clips, find_inputs, holds_recordings
from timedist.data.recordings import read_recordings, recording_values
from timedist.runs.clip_source import is_clip_source

ITALY = FIXTURES / "ItalyPowerDemand_TRAIN.ts.gz"  # 67 univariate series of 24, classes 1 2


def _cell(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def write_recording(path: Path, series: torch.Tensor, form: str) -> Path:
    """One (T, C) series as ``form``: csv (a header and a time column), bare csv (neither),
    tsv.gz, npy or parquet."""
    path = path.with_name(path.name + {"csv": ".csv", "bare": ".csv", "tsv.gz": ".tsv.gz",
                                       "npy": ".npy", "parquet": ".parquet"}[form])
    path.parent.mkdir(parents=True, exist_ok=True)
    values = series.numpy()
    channels = [f"ch{j}" for j in range(values.shape[1])]
    if form == "npy":
        np.save(path, values)
    elif form == "parquet":
        pd.DataFrame(values, columns=channels).to_parquet(path)
    else:
        rows = [[_cell(v) for v in step] for step in values.tolist()]
        if form != "bare":
            rows = [["time", *channels]] + [[str(0.5 * t), *r] for t, r in enumerate(rows)]
        text = "\n".join(("\t" if form == "tsv.gz" else ",").join(r) for r in rows) + "\n"
        if form == "tsv.gz":
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)
    return path


def write_folder(root: Path, data: SequenceDataset, form: str, start: int = 0) -> Path:
    for i, (series, label) in enumerate(zip(data.sequences, labels_of(data), strict=True)):
        write_recording(root / f"class {label}" / f"r{start + i:03d}", series, form)
    return root


@pytest.fixture(scope="module")
def italy() -> SequenceDataset:
    return read_ts(ITALY)


def _by_path(data: SequenceDataset, paths: list[Path]) -> SequenceDataset:
    """``data`` in the order of the files (label folders sorted, then names)."""
    order = [int(p.name[1:4]) for p in paths]
    return SequenceDataset([data.sequences[i] for i in order], data.targets[order],
                           classes=data.classes)


@pytest.mark.parametrize("form", ["csv", "bare", "tsv.gz", "npy", "parquet"])
def test_each_form_reads_as_the_ts_twin(tmp_path: Path, form: str, italy: SequenceDataset
                                        ) -> None:
    root = write_folder(tmp_path / "rec", italy, form)
    assert holds_recordings(root) and not is_clip_source(str(root))
    items = find_clips(root, recordings=True)["all"]
    data, bad, said = read_recordings(items, name="rec")
    named = SequenceDataset(italy.sequences, italy.targets,
                            classes=[f"class {c}" for c in italy.classes])
    assert_same_samples(data, _by_path(named, [i.path for i in items]))
    assert not bad
    if form == "csv":
        assert said == ["rec: 67 of 67 recordings with a header",
                        "rec: 67 of 67 recordings with a time column ('time', left out)"]


def test_multichannel_lengths_and_missing_values(tmp_path: Path) -> None:
    series = torch.tensor([[1.0, 2.0], [math.nan, math.nan], [4.0, 5.0], [math.nan, math.nan]],
                          dtype=torch.float64)
    for form in ("csv", "bare", "npy", "parquet"):
        values, _ = recording_values(write_recording(tmp_path / form, series, form))
        assert values.shape == (3, 2)  # the trailing missing step shortens it; a row of
        assert np.array_equal(np.isnan(values), series[:3].isnan().numpy())  # gaps stays
    indexed = tmp_path / "indexed.csv"  # DataFrame.to_csv writes its index, without a name
    pd.DataFrame({"x": [1.5, 2.5], "y": [3.0, 4.0]}).to_csv(indexed)
    values, said = recording_values(indexed)
    assert values.tolist() == [[1.5, 3.0], [2.5, 4.0]]
    assert said == ["a header", "a row index (column 1, without a name; left out)"]


BAD = [
    ("text in a value", "csv", "time,x\n0,1\n1,up\n",
     r"class a/r.csv, line 3, column 2 \('x'\): expected a number"),
    ("an empty file", "csv", "", r"class a/r.csv: expected rows of steps; got an empty file"),
    ("a header only", "csv", "time,x\n", r"class a/r.csv: expected rows of steps, a column of "
                                         r"numbers per channel; got no rows"),
    ("times going back", "csv", "time,x\n0,1\n2,1\n1,1\n",
     r"class a/r.csv, line 4, column 'time': expected times in increasing order"),
    ("ragged", "csv", "x,y\n1,2\n3\n", r"class a/r.csv, line 3: expected 2 fields"),
    ("not an array", "npy", b"not numpy", r"class a/r.npy: expected a .npy array"),
    ("twice a name", "csv", "a,a\n1,2\n3,4\n",
     r"class a/r.csv: expected each column name once; got 'a' twice"),
    ("pickled", "npy", None, r"class a/r.npy: expected a .npy array of numbers; it holds Python "
                             r"objects"),
    ("other channels", "csv", "x,y,z\n1,2,3\n",
     r"class a/r.csv: expected 1 channel like class a/1.csv; got 3"),
]


@pytest.mark.parametrize("case,suffix,content,message", BAD, ids=[c[0] for c in BAD])
def test_a_bad_recording_is_one_line_or_skipped(tmp_path: Path, case: str, suffix: str,
                                                content: str | bytes | None, message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "rec"
    for label in ("a", "b"):
        for i in range(3):
            write_recording(root / f"class {label}" / f"{'a' if i == 0 else i}",
                            torch.arange(4.0, dtype=torch.float64)[:, None] * (i + 1), "bare")
    bad = root / "class a" / f"r.{suffix}"
    if content is None:
        np.save(bad, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    else:
        bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    items = find_clips(root, recordings=True)["all"]
    with pytest.raises(TsFormatError, match=message):
        read_recordings(items, name="rec", root=root)
    out = tmp_path / "run"
    assert main(["fit", "--data", str(root), "--out", str(out), "--members", "1",
                 "--num-features", "840"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and not out.exists()
    assert main(["fit", "--data", str(root), "--out", str(out), "--members", "1",
                 "--num-features", "840", "--skip-bad"]) == 0
    assert "skipped 1 unreadable recording (--skip-bad): class a/r." in capsys.readouterr().out


def test_the_cli_trains_on_a_folder_as_on_its_ts_twin(tmp_path: Path, italy: SequenceDataset,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """train/ and test/ folders of per-recording CSVs, and a manifest of .npy files, give
    the .ts route's metrics; predict writes one row per recording, named by its path."""
    header, data = gzip.decompress(ITALY.read_bytes()).decode().split("@data\n")
    lines = [row for row in data.splitlines() if row.strip()]
    labels = labels_of(italy)  # the .ts twin lists the series as the folders do: by label
    order = sorted(range(45), key=lambda i: labels[i]) + sorted(range(45, 67),
                                                                 key=lambda i: labels[i])
    (tmp_path / "tr.ts").write_text(header + "@data\n" + "\n".join(lines[i] for i in order[:45])
                                    + "\n")
    (tmp_path / "te.ts").write_text(header + "@data\n" + "\n".join(lines[i] for i in order[45:])
                                    + "\n")
    train = SequenceDataset(italy.sequences[:45], italy.targets[:45], classes=italy.classes)
    test = SequenceDataset(italy.sequences[45:], italy.targets[45:], classes=italy.classes)
    folder = tmp_path / "folder"
    write_folder(folder / "train", train, "csv")
    write_folder(folder / "test", test, "csv", start=45)
    manifest_root = tmp_path / "npy"
    rows = []
    for split, part, start in (("train", train, 0), ("test", test, 45)):
        write_folder(manifest_root / split, part, "npy", start)
        rows += [[f"{split}/class {label}/r{start + i:03d}.npy", f"class {label}"]
                 for i, label in enumerate(labels_of(part))]
    with (manifest_root / "train.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["path", "label"], *[r for r in rows if "train/" in r[0]]])
    with (manifest_root / "test.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([["path", "label"], *[r for r in rows if "test/" in r[0]]])
    runs = {"ts": (["--data", str(tmp_path / "tr.ts"), "--test-data", str(tmp_path / "te.ts")]),
            "folder": ["--data", str(folder)],
            "manifest": ["--data", str(manifest_root / "train.csv"), "--test-data",
                         str(manifest_root / "test.csv")]}
    found = {}
    for kind, data_args in runs.items():
        run = tmp_path / f"run-{kind}"
        assert main(["fit", *data_args, "--members", "1", "--num-features", "840", "--out",
                     str(run)]) == 0, kind
        out = capsys.readouterr().out
        metrics = json.loads((run / "metrics.json").read_text())
        found[kind] = {k: v for k, v in metrics.items() if k.startswith(("test_", "loo_"))}
        if kind == "folder":
            assert "chose  " + str(folder) + ": 45 of 45 recordings with a header" in out
    assert found["folder"] == found["manifest"] == found["ts"]
    output = tmp_path / "p.csv"
    assert main(["predict", str(tmp_path / "run-folder"), "--input", str(folder / "test"),
                 "--output", str(output)]) == 0
    predicted = list(csv.DictReader(output.open()))
    paths = [str(i.path) for i in find_inputs(folder / "test", recordings=True)]
    assert [r["recording"] for r in predicted] == paths and len(paths) == 22
    ts_output = tmp_path / "p-ts.csv"
    assert main(["predict", str(tmp_path / "run-ts"), "--input", str(tmp_path / "te.ts"),
                 "--output", str(ts_output)]) == 0
    by_index = {int(r["index"]): r["prediction"] for r in csv.DictReader(ts_output.open())}
    assert [r["prediction"] for r in predicted] == [f"class {by_index[i]}" for i in range(22)]
    assert [int(Path(p).name[1:4]) for p in paths] == order[45:]
    single = tmp_path / "one.csv"
    assert main(["predict", str(tmp_path / "run-folder"), "--input", paths[0], "--output",
                 str(single)]) == 0  # one .csv is one recording for this run
    assert next(iter(csv.DictReader(single.open())))["prediction"] == predicted[0]["prediction"]
    assert main(["evaluate", str(tmp_path / "run-folder"), "--data", str(folder)]) == 0
    listed = tmp_path / "listed.csv"  # a manifest lists recordings to predict
    assert main(["predict", str(tmp_path / "run-manifest"), "--input",
                 str(manifest_root / "test.csv"), "--output", str(listed)]) == 0
    assert len(list(csv.DictReader(listed.open()))) == 22
