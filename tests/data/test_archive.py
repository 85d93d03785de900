"""The archives' own files (UCR .tsv/.txt, UEA/Weka .arff, gzipped or not) read as their .ts
twins: the same series, lengths, missing values, classes and targets; and every malformed file
is one line naming the file, the line (and column) and what was expected."""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import FIXTURES, assert_same_samples, labels_of

from timedist.cli import main
from timedist.data import SequenceDataset, TsFormatError, read_arff, read_ts, read_ucr
from timedist.data.builtin import _file

ITALY = FIXTURES / "ItalyPowerDemand_TRAIN.ts.gz"  # 67 univariate series of 24, classes 1 2
VOWELS = _file("JapaneseVowels_TRAIN.ts.gz")  # 270 series of 7..29 steps x 12 channels
COVID = FIXTURES / "Covid3Month_TRAIN.ts.gz"  # regression


def _text(value: float) -> str:
    return "NaN" if math.isnan(value) else repr(value)


def _padded(data: SequenceDataset, channel: int = 0) -> list[list[float]]:
    """Each series' channel, padded at the end with NaN to the longest (the archive's way)."""
    longest = data.max_length
    return [s[:, channel].tolist() + [math.nan] * (longest - len(s)) for s in data.sequences]


def write_tsv(data: SequenceDataset, path: Path, separator: str = "\t",
              label: Callable[[str], str] = str) -> Path:
    """The UCR 2018 archive's .tsv (label first; padded with NaN); ``separator`` and
    ``label`` give the older copies' forms."""
    lines = [separator.join([label(name), *map(_text, row)])
             for name, row in zip(labels_of(data), _padded(data), strict=True)]
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def write_arff(data: SequenceDataset, path: Path) -> Path:
    """UEA's .arff: one numeric attribute per step (univariate) or one relational attribute
    (multivariate), '?' for padding, the nominal class (or numeric target) last."""
    longest, channels = data.max_length, data.step_shape[0]
    lines = ["% written by a test", "@relation test"]
    if channels == 1:
        lines += [f"@attribute att{i} numeric" for i in range(longest)]
    else:
        lines += ["@attribute series relational"]
        lines += [f"@attribute step{i} numeric" for i in range(longest)]
        lines += ["@end series"]
    lines.append("@attribute target " + ("{" + ",".join(data.classes) + "}"
                                         if data.classes is not None else "numeric"))
    lines.append("@data")
    targets = labels_of(data) if data.classes is not None else [repr(float(t))
                                                             for t in data.targets]
    for series, target in zip(data.sequences, targets, strict=True):
        rows = [[_text(v) if not math.isnan(v) else "?" for v in series[:, c].tolist()]
                + ["?"] * (longest - len(series)) for c in range(channels)]
        if channels == 1:
            lines.append(",".join([*rows[0], target]))
        else:
            lines.append("'" + "\\n".join(",".join(row) for row in rows) + f"',{target}")
    path.write_text("\n".join(lines) + "\n")
    return path


UCR_FORMS = {
    "tsv": ("Italy_TRAIN.tsv", "\t", str),
    "tsv.gz": ("Italy_TRAIN.tsv.gz", "\t", str),
    "txt: floats, spaces": ("Italy_TRAIN.txt", "  ", lambda n: f"{float(n):.7e}"),
    "txt: commas": ("Italy_TRAIN.txt", ",", lambda n: f"{float(n):.1f}"),
}


@pytest.mark.parametrize("form", list(UCR_FORMS))
def test_ucr_files_read_as_their_ts_twin(tmp_path: Path, form: str) -> None:
    name, separator, label = UCR_FORMS[form]
    want = read_ts(ITALY)
    got = read_ucr(write_tsv(want, tmp_path / name, separator, label))
    assert_same_samples(got, want)
    assert got.classes == ["1", "2"]  # labels written 1.0000000e+00 are named 1


def test_ucr_variable_lengths_and_missing_values(tmp_path: Path) -> None:
    """Trailing NaN shortens a series (the archive pads with it); one inside stays missing."""
    vowels = read_ts(VOWELS)
    univariate = SequenceDataset([s[:, :1].clone() for s in vowels.sequences], vowels.targets,
                                 classes=vowels.classes)
    univariate.sequences[0][2, 0] = math.nan  # a missing value inside a series
    got = read_ucr(write_tsv(univariate, tmp_path / "v.tsv"))
    assert_same_samples(got, univariate)
    assert sorted({len(s) for s in got.sequences}) == sorted({len(s) for s in vowels.sequences})
    assert math.isnan(got.sequences[0][2, 0])


def test_ucr_classes_are_ordered_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("10\t1\t2\n2\t3\t4\n-1\t5\t6\n2.0\t7\t8\n")
    got = read_ucr(path)
    assert got.classes == ["-1", "2", "10"] and got.targets.tolist() == [2, 1, 0, 1]
    (tmp_path / "f.tsv").write_text("1.5\t1\n1.50\t2\n1.5e0\t3\n1_0\t4\n")  # one number
    assert read_ucr(tmp_path / "f.tsv").classes == ["1.5", "1_0"]  # 1_0 is text, not 10
    (tmp_path / "p.tsv").write_text("1\t1\t2\t\t\n2\t4\t\t\t\n")  # tabs after the values
    assert [len(s) for s in read_ucr(tmp_path / "p.tsv").sequences] == [2, 1]
    (tmp_path / "t.tsv").write_text("cat\t1\t2\ndog\t3\t4\n")
    assert read_ucr(tmp_path / "t.tsv").classes == ["cat", "dog"]


def test_arff_quoting_as_weka_writes_it(tmp_path: Path) -> None:
    """A quoted value runs to its closing quote, a backslash escapes a quote inside it, and a
    quote inside an unquoted value is a character."""
    path = tmp_path / "q.arff"
    path.write_text("@relation 'a test'\n@attribute 'step one' numeric\n"
                    "@attribute class {'it\\'s', \"b c\", d'e}\n@data\n1,'it\\'s'\n2,'b c'\n"
                    "3,d'e\n")
    got = read_arff(path)
    assert got.classes == ["it's", "b c", "d'e"] and got.targets.tolist() == [0, 1, 2]


@pytest.mark.parametrize("source", [ITALY, VOWELS, COVID], ids=["univariate", "multivariate",
                                                                  "regression"])
def test_arff_files_read_as_their_ts_twin(tmp_path: Path, source: Path) -> None:
    want = read_ts(source)
    assert_same_samples(read_arff(write_arff(want, tmp_path / "x.arff")), want)
    packed = tmp_path / "x.arff.gz"
    packed.write_bytes(gzip.compress((tmp_path / "x.arff").read_bytes()))
    assert_same_samples(read_arff(packed), want)


BAD = [
    ("ragged rows without NaN", "a.tsv", "1\t1\t2\t3\n2\t1\t2\n",
     r"a\.tsv, line 2: expected 3 values like line 1 \(shorter series end in NaN.*got 2"),
    ("text in a value", "a.tsv", "1\t1\t2\n2\t1\tx\n",
     r"a\.tsv, line 2, column 3: expected a number, '\?' or NaN; got 'x'"),
    ("an infinite value", "a.txt", "1 1 inf\n",
     r"a\.txt, line 1, column 3: expected a finite number"),
    ("an empty file", "a.tsv", "", r"a\.tsv: expected series, one per line; found none"),
    ("a label alone", "a.tsv", "1\n", r"a\.tsv, line 1: expected a label then the series"),
    ("only missing values", "a.tsv", "1\tNaN\tNaN\n",
     r"a\.tsv, line 1: expected at least one value; got only missing ones"),
    ("not UTF-8", "a.tsv", b"1\t\xff\n", r"a\.tsv: expected a UTF-8 text file"),
    ("gz that is not", "a.tsv.gz", "1\t2\n", r"a\.tsv\.gz: expected a gzip-compressed file"),
    ("arff: header only", "a.arff", "@relation r\n@attribute a numeric\n@attribute c {x,y}\n"
     "@data\n", r"a\.arff: expected samples after '@data'; found none"),
    ("arff: no @data", "a.arff", "@relation r\n@attribute a numeric\n@attribute c {x,y}\n",
     r"a\.arff: expected an '@data' line"),
    ("arff: an undeclared class", "a.arff", "@attribute a numeric\n@attribute c {x,y}\n@data\n"
     "1,z\n", r"a\.arff, line 4: expected a class declared in the header \['x', 'y'\]; got 'z'"),
    ("arff: a value missing", "a.arff", "@attribute a numeric\n@attribute b numeric\n"
     "@attribute c {x,y}\n@data\n1,x\n", r"a\.arff, line 5: expected 3 values"),
    ("arff: text in a value", "a.arff", "@attribute a numeric\n@attribute c {x,y}\n@data\n"
     "one,x\n", r"a\.arff, line 4, column 1: expected a number"),
    ("arff: an unclosed quote", "a.arff", "@attribute s relational\n@attribute t numeric\n"
     "@end s\n@attribute c {x,y}\n@data\n'1,2\\n3,4,x\n", r"a\.arff, line 6: expected a "
     "closing '"),
    ("arff: channels of unequal length", "a.arff", "@attribute s relational\n"
     "@attribute t numeric\n@end s\n@attribute c {x,y}\n@data\n'1,2\\n3',x\n",
     r"a\.arff, line 6: expected channels of 1 step each \(the relational attribute's\); got "
     r"lengths \[2, 1\]"),
    ("arff: fewer steps than declared", "a.arff", "@attribute s relational\n"
     "@attribute t1 numeric\n@attribute t2 numeric\n@attribute t3 numeric\n@end s\n"
     "@attribute c {x,y}\n@data\n'1,2\\n3,4',x\n",
     r"line 8: expected channels of 3 steps each .*got lengths \[2, 2\]"),
    ("arff: a relational attribute without steps", "a.arff", "@attribute s relational\n"
     "@end s\n@attribute c {x,y}\n@data\n", r"a\.arff, line 2: expected numeric steps inside"),
    ("arff: relational unclosed", "a.arff", "@attribute s relational\n@attribute t numeric\n"
     "@data\n", r"a\.arff, line 3: expected '@end' to close the relational attribute"),
    ("arff: a misspelt type", "a.arff", "@attribute s relationalfoo\n@attribute c {x,y}\n@data\n",
     r"a\.arff, line 1: expected a numeric, relational or nominal attribute; got 'relationalfoo'"),
    ("arff: text after @data", "a.arff", "@attribute a numeric\n@attribute c {x,y}\n@data foo\n",
     r"a\.arff, line 3: expected '@data' alone on its line"),
    ("arff: only the target", "a.arff", "@attribute c {x,y}\n@data\nx\n",
     r"a\.arff, line 2: expected the series' attributes before the target"),
    ("a blank label (tabs)", "a.tsv", "\t1\t2\n\t3\t4\n",
     r"a\.tsv, line 1, column 1: expected a class label; got ''"),
    ("a missing label", "a.tsv", "1\t1\t2\n?\t3\t4\n",
     r"a\.tsv, line 2, column 1: expected a class label; got '\?' \(a missing value\)"),
    ("NaN as a label", "a.txt", "NaN 1 2\n", r"a\.txt, line 1, column 1: expected a class label"),
    ("a damaged gzip body", "a.tsv.gz", gzip.compress(b"1\t2\t3\n" * 400)[:20] + b"\x00" * 10
     + gzip.compress(b"1\t2\t3\n" * 400)[30:], r"a\.tsv\.gz: expected a gzip-compressed file"),
    ("arff: the class not last", "a.arff", "@attribute c {x,y}\n@attribute a numeric\n@data\n",
     r"a\.arff, line 2: expected the nominal class attribute last"),
    ("arff: a string attribute", "a.arff", "@attribute a string\n@attribute c {x,y}\n@data\n",
     r"a\.arff, line 1: expected a numeric, relational or nominal attribute; got 'string'"),
    ("arff: no target", "a.arff", "@attribute s relational\n@attribute t numeric\n@end s\n"
     "@data\n", r"a\.arff, line 4: expected a nominal or numeric target"),
    ("arff: a regression target missing", "a.arff", "@attribute a numeric\n"
     "@attribute y numeric\n@data\n1,?\n", r"a\.arff, line 4: expected a regression target"),
]


@pytest.mark.parametrize(("case", "name", "text", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_malformed_archive_file_is_one_line(tmp_path: Path, case: str, name: str,
                                              text: str | bytes, message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    reader = read_arff if ".arff" in name else read_ucr
    with pytest.raises(TsFormatError, match=message):
        reader(path)
    assert main(["fit", "--data", str(path), "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and not (tmp_path / "run").exists()


def test_the_cli_trains_on_archive_files_as_on_their_ts_twin(tmp_path: Path) -> None:
    """`timedist fit --data X_TRAIN.tsv --test-data X_TEST.tsv` (and .txt, .arff): the same
    features and predictions as the .ts route (the same numbers in every metric)."""
    italy = read_ts(ITALY)
    train = SequenceDataset(italy.sequences[:45], italy.targets[:45], classes=italy.classes)
    test = SequenceDataset(italy.sequences[45:], italy.targets[45:], classes=italy.classes)
    header, data = gzip.decompress(ITALY.read_bytes()).decode().split("@data\n")
    rows = [row for row in data.splitlines() if row.strip()]
    twins = {"ts": (tmp_path / "tr.ts", tmp_path / "te.ts")}  # the archive's own lines
    twins["ts"][0].write_text(header + "@data\n" + "\n".join(rows[:45]) + "\n")
    twins["ts"][1].write_text(header + "@data\n" + "\n".join(rows[45:]) + "\n")
    twins["tsv"] = (write_tsv(train, tmp_path / "tr.tsv"), write_tsv(test, tmp_path / "te.tsv"))
    twins["txt"] = (write_tsv(train, tmp_path / "tr.txt", " ", lambda n: f"{float(n):.7e}"),
                    write_tsv(test, tmp_path / "te.txt", " ", lambda n: f"{float(n):.7e}"))
    twins["arff"] = (write_arff(train, tmp_path / "tr.arff"),
                     write_arff(test, tmp_path / "te.arff"))
    found = {}
    for kind, (train_file, test_file) in twins.items():
        run = tmp_path / f"run-{kind}"
        assert main(["fit", "--data", str(train_file), "--test-data", str(test_file),
                     "--members", "1", "--num-features", "840", "--out", str(run),
                     "--quiet"]) == 0, kind
        assert main(["predict", str(run), "--input", str(test_file), "--output",
                     str(tmp_path / f"{kind}.csv")]) == 0
        metrics = json.loads((run / "metrics.json").read_text())
        found[kind] = ({k: v for k, v in metrics.items() if k.startswith(("test_", "loo_"))},
                       (tmp_path / f"{kind}.csv").read_text())
    assert found["tsv"] == found["txt"] == found["arff"] == found["ts"]
    assert found["tsv"][0]["test_accuracy"] > 0.8
