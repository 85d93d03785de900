"""Tables of series (.csv/.tsv/.parquet with a header): every layout reads bit for bit as the
.ts twin, through each of the three parsers; what is chosen is said; a bad table is one line
naming the file, the line and the column."""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import random
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import FIXTURES, assert_same_samples, labels_of

from timedist.cli import main
from timedist.data import SequenceDataset, TsFormatError, read_table, read_ts
from timedist.data import columns as columns_module
from timedist.data.builtin import _file
from timedist.data.clips import is_manifest
from timedist.runs.clip_source import is_clip_source

ITALY = FIXTURES / "ItalyPowerDemand_TRAIN.ts.gz"  # 67 univariate series of 24, classes 1 2
VOWELS = _file("JapaneseVowels_TRAIN.ts.gz")  # 270 series of 7..29 steps x 12 channels
COVID = FIXTURES / "Covid3Month_TRAIN.ts.gz"  # regression


def _cell(value: float) -> str:
    return "" if math.isnan(value) else repr(value)


def _targets(data: SequenceDataset) -> list[str]:
    return labels_of(data) if data.classes is not None else [repr(float(t))
                                                            for t in data.targets]


def wide_rows(data: SequenceDataset, label_at: int = 0) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one series per row, padded with empty cells, the label at
    ``label_at``."""
    longest = data.max_length
    header = [f"t{i}" for i in range(longest)]
    header.insert(label_at, "label")
    rows = []
    for series, target in zip(data.sequences, _targets(data), strict=True):
        row = [_cell(v) for v in series[:, 0].tolist()] + [""] * (longest - len(series))
        row.insert(label_at, target)
        rows.append(row)
    return header, rows


def long_rows(data: SequenceDataset, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of id, time, one column per channel and the label: each series' first
    step in series order (so the series keep it), then every other row shuffled."""
    header = ["id", "time", *[f"c{j}" for j in range(data.step_shape[0])], "label"]
    firsts, rest = [], []
    for i, (series, target) in enumerate(zip(data.sequences, _targets(data), strict=True)):
        for t, step in enumerate(series.tolist()):
            (rest if t else firsts).append([f"s{i:03d}", str(t), *map(_cell, step), target])
    random.Random(seed).shuffle(rest)
    return header, firsts + rest


def write_text(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ","
               ) -> Path:
    text = "\n".join(delimiter.join(r) for r in [header, *rows]) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def write_parquet(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    columns = {}
    for j, name in enumerate(header):
        cells = [r[j] for r in rows]
        numeric = name not in ("id", "label")
        columns[name] = [float(c) if c else math.nan for c in cells] if numeric else cells
    pd.DataFrame(columns).to_parquet(path)
    return path


@pytest.fixture(scope="module")
def italy() -> SequenceDataset:
    return read_ts(ITALY)


LAYOUTS = {
    "csv, label first": lambda d, p: write_text(p / "a.csv", *wide_rows(d)),
    "csv.gz, label last": lambda d, p: write_text(p / "a.csv.gz", *wide_rows(d, 24)),
    "tsv with a header": lambda d, p: write_text(p / "a.tsv", *wide_rows(d), "\t"),
    "csv with semicolons": lambda d, p: write_text(p / "a.csv", *wide_rows(d, 3), ";"),
    "parquet, wide": lambda d, p: write_parquet(p / "a.parquet", *wide_rows(d)),
    "csv, long": lambda d, p: write_text(p / "a.csv", *long_rows(d)),
    "parquet, long": lambda d, p: write_parquet(p / "a.parquet", *long_rows(d)),
}
PARSERS = ["arrow", "numpy", "rows"]


def _only(parser: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Read text tables with one parser (pyarrow's, numpy's, or row by row)."""
    if parser != "arrow":
        monkeypatch.setattr(columns_module, "_read_arrow", lambda *args: None)
    if parser == "rows":
        def refuse(*args: object, **kwargs: object) -> None:
            raise ValueError("row by row")
        monkeypatch.setattr(np, "loadtxt", refuse)


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_each_layout_reads_as_the_ts_twin(tmp_path: Path, layout: str, parser: str,
                                          italy: SequenceDataset,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    if parser != "arrow" and layout.startswith("parquet"):
        pytest.skip("parquet is read by pyarrow only")
    _only(parser, monkeypatch)
    table = read_table(LAYOUTS[layout](italy, tmp_path))
    assert_same_samples(table.data, italy)
    assert table.label_column == "label" and table.data.classes == ["1", "2"]
    assert "(named so): 2 classes" in table.chose[-1]


@pytest.mark.parametrize("parser", PARSERS)
def test_multivariate_long_tables_and_regression(tmp_path: Path, parser: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _only(parser, monkeypatch)
    vowels = read_ts(VOWELS)
    table = read_table(write_text(tmp_path / "v.csv", *long_rows(vowels, seed=1)))
    assert_same_samples(table.data, vowels)
    assert table.chose[0] == "v.csv: a long table: series by 'id', steps by 'time', 12 channels"
    covid = read_ts(COVID)  # fractional targets: regression
    header, rows = wide_rows(covid)
    header[0] = "target"
    table = read_table(write_text(tmp_path / "c.csv", header, rows))
    assert_same_samples(table.data, covid)
    assert "regression targets" in table.chose[-1]


def test_missing_values_and_what_is_chosen(tmp_path: Path) -> None:
    rows = [["a", "1", "", "3", ""], ["b", "?", "2", "NaN", "4"], ["a", "5", "6", "", ""]]
    path = write_text(tmp_path / "m.csv", ["name", "x0", "x1", "x2", "x3"], rows)
    table = read_table(path)
    assert [s.shape[0] for s in table.data.sequences] == [3, 4, 2]  # trailing gaps shorten
    assert math.isnan(table.data.sequences[0][1, 0]) and math.isnan(
        table.data.sequences[1][0, 0])  # a gap inside stays missing
    assert table.label_column == "name" and "the first column" in table.chose[-1]
    by_flag = read_table(path, label_column="name")
    assert by_flag.chose[-1] == "labels from column 'name' (--label-column): 2 classes"
    pandas_file = tmp_path / "p.csv"  # pandas writes its row index as a nameless column
    frame = pd.DataFrame({"label": ["u", "v"], "0": [1.5, 2.5], "1": [0.25, math.nan]})
    frame.to_csv(pandas_file)
    table = read_table(pandas_file)
    assert "column 1 has no name: a row index, left out" in table.chose
    assert [s[:, 0].tolist() for s in table.data.sequences] == [[1.5, 0.25], [2.5]]
    assert table.data.classes == ["u", "v"]
    unlabelled = read_table(write_text(tmp_path / "u.csv", ["t0", "t1"], [["1", "2"]]),
                            require_targets=False)
    assert unlabelled.label_column is None and unlabelled.data.sequences[0].shape == (2, 1)


def test_a_table_without_header_is_the_ucr_layout(tmp_path: Path, italy: SequenceDataset
                                                  ) -> None:
    _, rows = wide_rows(italy)
    table = read_table(write_text(tmp_path / "u.csv", rows[0], rows[1:]))
    assert_same_samples(table.data, italy)
    assert "no header" in table.chose[0] and table.label_column is None
    numbered = write_text(tmp_path / "n.csv", ["label", *map(str, range(24))], rows)
    assert_same_samples(read_table(numbered).data, italy)  # column numbers are a header


def test_a_manifest_stays_a_manifest(tmp_path: Path, italy: SequenceDataset) -> None:
    manifest = tmp_path / "clips.csv"
    manifest.write_text("Path,Label\nx.mp4,a\n")
    table = write_text(tmp_path / "t.csv", *wide_rows(italy))
    assert is_manifest(manifest) and is_clip_source(str(manifest))
    assert not is_manifest(table) and not is_clip_source(str(table))


def test_without_pyarrow(tmp_path: Path, italy: SequenceDataset,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.csv", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    assert_same_samples(read_table(write_text(tmp_path / "a.csv", *wide_rows(italy))).data,
                        italy)
    with pytest.raises(ImportError, match=r"a.parquet: reading \.parquet files needs pyarrow: "
                                          r"pip install 'timedist\[tables\]'"):
        read_table(tmp_path / "a.parquet")


HEADER = "label,t0,t1,t2\n"
BAD = [
    ("ragged row", "a.csv", HEADER + "a,1,2,3\nb,1,2\n",
     r"a.csv, line 3: expected 4 fields like the header \(line 1; .*\); got 3"),
    ("text in a value", "a.csv", HEADER + "a,1,2,3\nb,1,x,3\n",
     r"a.csv, line 3, column 3 \('t1'\): expected a number, '\?' or NaN; got 'x'"),
    ("an infinity", "a.csv", HEADER + "a,1,inf,3\n",
     r"a.csv, line 2, column 3 \('t1'\): expected a finite number"),
    ("label column missing", "a.csv", "id,time,x\n1,0,2\n",
     r"a.csv: expected a label column \(one named label, class, target, or "
     r"--label-column NAME\); got the columns 'id', 'time', 'x'"),
    ("empty file", "a.csv", "", r"a.csv: expected series, one per line; found none"),
    ("header only", "a.csv", HEADER, r"a.csv: expected rows of series after the header"),
    ("blank label", "a.csv", HEADER + "a,1,2,3\n,1,2,3\n",
     r"a.csv, line 3, column 'label': expected a (class )?label; got"),
    ("all missing", "a.csv", HEADER + "a,1,2,3\nb,,,\n",
     r"a.csv, line 3: expected at least one value; got only missing ones"),
    ("twice a name", "a.csv", "label,t,t\na,1,2\n", r"a.csv: expected each column name once"),
    ("a nameless column", "a.csv", "label,,t\na,1,2\n",
     r"a.csv: expected a name for every column; column 2 has none"),
    ("two labels for a series", "a.csv", "id,time,x,label\n1,0,2,a\n1,1,3,b\n",
     r"a.csv, line 3, column 'label': expected one label per series \('a' for series"),
    ("a time twice", "a.csv", "id,time,x,label\n1,0,2,a\n1,0,3,a\n",
     r"a.csv: expected each time once per series"),
    ("text in a channel", "a.csv", "id,time,x,label\n1,0,2,a\n1,1,up,a\n",
     r"a.csv, line 3, column 3 \('x'\): expected a number"),
    ("not utf-8", "a.csv", b"label,t0\n\xff\xfe,1\n", r"a.csv: expected a UTF-8 text file"),
    ("damaged gzip", "a.csv.gz", b"\x1f\x8b\x08\x00garbage",
     r"a.csv.gz: expected a gzip-compressed file"),
    ("not parquet", "a.parquet", b"label,t0\na,1\n", r"a.parquet: expected a Parquet file"),
    ("two label columns", "a.csv", "label,class,a\n1,2,3\n",
     r"a.csv: expected one label column; got 'label', 'class' \(choose one with "
     r"--label-column NAME\)"),
    ("two id columns", "a.csv", "id,series,time,x,label\n1,1,0,2,a\n",
     r"a.csv: expected one series id column; got 'id', 'series' \(rename the others\)"),
    ("a missing time", "a.csv", "id,time,x,label\n1,0,1,a\n1,,2,a\n2,0,3,b\n",
     r"a.csv, line 3, column 'time': expected a time; got a missing one"),
    ("a missing id", "a.csv", "id,time,x,label\n1,0,1,a\n,1,2,a\n2,0,3,b\n",
     r"a.csv, line 3, column 'id': expected a series id; got a missing one"),
    ("arabic digits", "a.csv", "label,a,b\nx,\u0661,3\n",
     r"a.csv, line 2, column 2 \('a'\): expected a number"),
    ("full-width digits", "a.csv", "label,a,b\nx,\uff11,3\n",
     r"column 2 \('a'\): expected a number"),
    ("underscores", "a.csv", "label,a,b\nx,1_000,3\n", r"column 2 \('a'\): expected a number"),
    ("hexadecimal", "a.csv", "label,a,b\nx,0x10,3\n", r"column 2 \('a'\): expected a number"),
    ("an infinite target", "a.csv", "label,a,b\n1e400,2,3\n1.5,4,5\n",
     r"a.csv, line 2, column 'label': expected a finite label; got '1e400'"),
    ("a header without a line end", "a.csv", "label,a,b",
     r"a.csv: expected rows of series after the header; got none"),
    ("a binary file", "a.csv", b"PK\x03\x04\x14\x00\x00\x00", r"a.csv: expected"),
    ("one column", "a.tsv", "label,a,b\nx,1,2\n",
     r"a.tsv: expected columns separated by '\\t'; the header has one: 'label,a,b'"),
]


@pytest.mark.parametrize("case,name,text,message", BAD, ids=[c[0] for c in BAD])
def test_a_bad_table_is_one_line(tmp_path: Path, case: str, name: str, text: str | bytes,
                                 message: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    for parser in PARSERS if name.endswith(".csv") else PARSERS[:1]:  # each says the same
        with pytest.MonkeyPatch.context() as patch:
            _only(parser, patch)
            with pytest.raises(TsFormatError, match=message):
                read_table(path)
    assert main(["fit", "--data", str(path), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and not (tmp_path / "run").exists()


def test_a_flag_naming_no_column_is_one_line(tmp_path: Path, italy: SequenceDataset,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = write_text(tmp_path / "a.csv", *wide_rows(italy))
    assert main(["fit", "--data", str(path), "--label-column", "kind", "--out",
                 str(tmp_path / "run")]) == 1
    assert "a.csv: --label-column 'kind': expected one of its columns ('label', 't0'" in (
        capsys.readouterr().err)
    ts = tmp_path / "a.ts"
    ts.write_bytes(gzip.decompress(ITALY.read_bytes()))
    assert main(["fit", "--data", str(ts), "--label-column", "label", "--out",
                 str(tmp_path / "run")]) == 1
    assert "is not a table with a header" in capsys.readouterr().err


def test_the_cli_trains_on_tables_as_on_their_ts_twin(tmp_path: Path, italy: SequenceDataset,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    """`timedist fit --data X.csv --test-data Y.csv` (wide, long, parquet): the same metrics
    and predictions as the .ts route; predict reads tables without their label column."""
    header, data = gzip.decompress(ITALY.read_bytes()).decode().split("@data\n")
    lines = [row for row in data.splitlines() if row.strip()]
    train = SequenceDataset(italy.sequences[:45], italy.targets[:45], classes=italy.classes)
    test = SequenceDataset(italy.sequences[45:], italy.targets[45:], classes=italy.classes)
    twins = {"ts": (tmp_path / "tr.ts", tmp_path / "te.ts")}
    twins["ts"][0].write_text(header + "@data\n" + "\n".join(lines[:45]) + "\n")
    twins["ts"][1].write_text(header + "@data\n" + "\n".join(lines[45:]) + "\n")
    twins["csv"] = (write_text(tmp_path / "tr.csv", *wide_rows(train)),
                    write_text(tmp_path / "te.csv", *wide_rows(test)))
    twins["long"] = (write_text(tmp_path / "trl.csv", *long_rows(train)),
                     write_text(tmp_path / "tel.csv", *long_rows(test)))
    twins["parquet"] = (write_parquet(tmp_path / "tr.parquet", *wide_rows(train)),
                        write_parquet(tmp_path / "te.parquet", *wide_rows(test)))
    found = {}
    for kind, (train_file, test_file) in twins.items():
        run = tmp_path / f"run-{kind}"
        assert main(["fit", "--data", str(train_file), "--test-data", str(test_file),
                     "--members", "1", "--num-features", "840", "--out", str(run)]) == 0, kind
        out = capsys.readouterr().out
        if kind != "ts":
            assert f"chose  {train_file.name}: a " in out and "labels from column 'label'" in out
        metrics = json.loads((run / "metrics.json").read_text())
        found[kind] = {k: v for k, v in metrics.items() if k.startswith(("test_", "loo_"))}
    assert found["csv"] == found["long"] == found["parquet"] == found["ts"]
    assert found["ts"]["test_accuracy"] > 0.8
    header_row, rows = wide_rows(test)  # inputs to predict: the label column left out or not
    bare = write_text(tmp_path / "bare.csv", header_row[1:], [r[1:] for r in rows])
    outputs = {}
    for name, source in (("ts", twins["ts"][1]), ("labelled", twins["csv"][1]), ("bare", bare)):
        output = tmp_path / f"p-{name}.csv"
        run = tmp_path / ("run-ts" if name == "ts" else "run-csv")
        assert main(["predict", str(run), "--input", str(source), "--output", str(output)]) == 0
        outputs[name] = output.read_text()
    assert outputs["ts"] == outputs["labelled"] == outputs["bare"]
    by_id = tmp_path / "p-long.csv"  # a long table's predictions are named by its ids
    assert main(["predict", str(tmp_path / "run-long"), "--input", str(twins["long"][1]),
                 "--output", str(by_id)]) == 0
    rows = list(csv.DictReader(by_id.open()))
    assert [r["id"] for r in rows] == [f"s{i:03d}" for i in range(22)]
    assert [r["prediction"] for r in rows] == [
        r["prediction"] for r in csv.DictReader(io.StringIO(outputs["ts"]))]
    assert torch.equal(read_table(twins["csv"][0]).data.targets, train.targets)


HEADERS = [  # (first lines, a header?, what the first series is)
    ("label,0.1,0.2,0.3\n1,1,2,3\n2,4,5,6\n", True, [1.0, 2.0, 3.0]),
    ("activity,0,1,2\nwalk,4,5,6\nrun,1,2,3\n", True, [4.0, 5.0, 6.0]),
    ("5,1,2,3\n2,4,5,6\n5,4,5,6\n", False, [1.0, 2.0, 3.0]),  # UCR: label 5 first
    ("walk,0.5,1,2\nrun,4,5,6\n", False, [0.5, 1.0, 2.0]),  # UCR with text labels
    (",0,1,2\n0,4,5,6\n1,7,8,9\n", True, [5.0, 6.0]),  # a pandas index, label first
]


@pytest.mark.parametrize("text,header,first", HEADERS)
def test_a_header_is_told_from_data(tmp_path: Path, text: str, header: bool,
                                    first: list[float]) -> None:
    path = tmp_path / "h.csv"
    path.write_text(text)
    table = read_table(path)
    assert (table.label_column is not None) == header
    assert table.data.sequences[0][:, 0].tolist() == first


@pytest.mark.parametrize("parser", PARSERS)
def test_what_each_parser_reads_the_same(tmp_path: Path, parser: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Channels named x, y, z; ISO times; ids and labels with spaces around them."""
    _only(parser, monkeypatch)
    path = tmp_path / "l.csv"
    path.write_text("id,time,x,y,z,label\n"
                    " 1,2020-01-01T00:00:01,4,5,6,walk\n"
                    "1,2020-01-01T00:00:00,1,2,3, walk\n"
                    "2,2020-01-01T00:00:00,7,8,9,run\n")
    table = read_table(path)
    assert [s.tolist() for s in table.data.sequences] == [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9]]]
    assert labels_of(table.data) == ["walk", "run"] and table.ids == ["1", "2"]


def test_parquet_as_pandas_and_pyarrow_write_it(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = pd.DataFrame({"label": ["a", "b"], "s0": [1.0, 2.0]},
                         index=pd.Index([5, 6], name="foo"))
    frame.to_parquet(tmp_path / "i.parquet")
    table = read_table(tmp_path / "i.parquet")  # the named index is not a step
    assert [s[:, 0].tolist() for s in table.data.sequences] == [[1.0], [2.0]]
    assert "column 'foo' is the DataFrame's index (pandas' metadata): left out" in table.chose
    pq.write_table(pa.table({"label": ["a", "b"], "s0": pa.array([2**60 + 1, 3], pa.int64())}),
                   tmp_path / "big.parquet")
    assert read_table(tmp_path / "big.parquet").data.sequences[0].item() == 2.0**60
    pq.write_table(pa.table({"label": ["a", "b"], "s0": [1.0, math.inf]}), tmp_path / "f.parquet")
    with pytest.raises(TsFormatError, match=r"f.parquet, row 2, column 's0': expected a finite"):
        read_table(tmp_path / "f.parquet")
    pq.write_table(pa.Table.from_arrays([pa.array(["a"]), pa.array([1.0]), pa.array([2.0])],
                                        names=["label", "s", "s"]), tmp_path / "d.parquet")
    with pytest.raises(TsFormatError, match=r"d.parquet: expected each column name once; got "
                                            r"'s' twice"):
        read_table(tmp_path / "d.parquet")


def test_frames_and_parquet_read_as_files_do(tmp_path: Path) -> None:
    """What a DataFrame or Parquet file holds beyond a CSV's text: objects, pandas' NA and
    NaT, integers past 2**53, infinities, an (instance, time) index written to Parquet."""
    from timedist.data import frame_table

    wide = frame_table(pd.DataFrame({"label": ["a", "b"], "t0": pd.Series(["1.5", 2.0],
                                                                          dtype=object)}))
    assert [s.item() for s in wide.data.sequences] == [1.5, 2.0]
    huge = frame_table(pd.DataFrame({"label": [2**62, 2**62 + 1], "t0": [1.0, 2.0]}))
    assert huge.data.classes == [str(2**62), str(2**62 + 1)]
    spaced = frame_table(pd.DataFrame({"id": [" s1", "s1"], "time": [0, 1], "x": [1.0, 2.0],
                                       "label": ["a", "a"]}))
    assert len(spaced.data) == 1 and spaced.ids == ["s1"]
    bad = {
        "NA label": (pd.DataFrame({"label": pd.array(["a", None], dtype="string"),
                                   "t0": [1.0, 2.0]}),
                     r"DataFrame, row 1 \(iloc\), column 'label': expected a label; got a missing"),
        "twice a name": (pd.DataFrame([["a", 2.0, 3.0]], columns=["label", "t", "t"]),
                         r"DataFrame: expected each column name once; got 't' twice"),
        "an infinity": (pd.DataFrame({"label": ["a", "b"], "t0": [np.inf, 2.0]}),
                        r"DataFrame, row 0 \(iloc\), column 't0': expected a finite number"),
        "NaT": (pd.DataFrame({"id": [1, 1, 1], "time": pd.to_datetime(
            ["2020-01-02", None, "2020-01-01"]), "x": [1.0, 2.0, 3.0], "label": ["a"] * 3}),
                r"DataFrame, row 1 \(iloc\), column 'time': expected a time; got a missing one"),
        "text in a step": (pd.DataFrame({"label": ["a"], "t0": ["up"]}),
                           r"DataFrame, row 0 \(iloc\), column 't0': expected a number"),
    }
    for frame, message in bad.values():
        with pytest.raises(TsFormatError, match=message):
            frame_table(frame)
    long = pd.DataFrame({"id": [1, 1, 2], "time": [0, 1, 0], "x": [1.0, 2.0, 3.0],
                         "label": ["a", "a", "b"]}).set_index(["id", "time"])
    long.to_parquet(tmp_path / "long.parquet")
    table = read_table(tmp_path / "long.parquet")
    assert [s[:, 0].tolist() for s in table.data.sequences] == [[1.0, 2.0], [3.0]]


BAD_TIMES = [
    ("id,time,x,label\n1,1,1,a\n1,1a,2,a\n", r"line 3, column 'time': expected a time \(a "
                                             r"number, or an ISO date and time\); got '1a'"),
    ("id,time,x,label\n1,1,1,a\n1,?,2,a\n", r"line 3, column 'time': expected a time; got a "
                                            r"missing one"),
    ("id,time,x,label\n1,1,1,a\n1,inf,2,a\n", r"line 3, column 'time': expected a"),
    ("time,x,label\n0,1,a\n1,2,b\n", r"column 'time' holds times, but no column names the "
                                     r"series"),
    ("5,1,inf,3\n2,4,5,6\n", r"line 1, column 3: expected a finite number"),
]


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("text,message", BAD_TIMES)
def test_bad_times_and_first_lines(tmp_path: Path, parser: str, text: str, message: str,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _only(parser, monkeypatch)
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(TsFormatError, match=message):
        read_table(path)
    gap = tmp_path / "g.csv"  # a missing value in the first line of a headerless file
    gap.write_text("5,1,?,3\n2,4,5,6\n7,4,5,6\n")
    table = read_table(gap)
    assert len(table.data) == 3 and math.isnan(table.data.sequences[0][1, 0])
