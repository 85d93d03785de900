"""timedist.data: the .ts reader, npz files, datasets, collate, built-in data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import FIXTURES, REPO
from torch.utils.data import DataLoader

import timedist
from timedist.cli import main
from timedist.data import (
    SequenceDataset,
    TsFormatError,
    forecast_windows,
    load_dataset,
    load_npz,
    pad_collate,
    read_ts,
    save_npz,
)
from timedist.data.dataset import channel_blocks, moments

FILES = Path(timedist.__file__).parent / "data" / "files"

SMALL = """# a comment
@problemName Tiny
@univariate false
@dimensions 2
@equalLength false
@classLabel true up down
@data
1,2,3:4,5,6:down
# comments may sit between samples
0.5,?:NaN,1e1:up
"""


def write(tmp_path: Path, text: str, name: str = "x.ts") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_japanese_vowels_and_basic_motions() -> None:
    train, test = read_ts(FILES / "JapaneseVowels_TRAIN.ts.gz"), read_ts(
        FILES / "JapaneseVowels_TEST.ts.gz")
    assert (len(train), len(test), train.channels) == (270, 370, 12)
    lengths = torch.cat([train.lengths, test.lengths])
    assert (int(lengths.min()), int(lengths.max())) == (7, 29)
    assert train.classes == [str(i) for i in range(1, 10)]
    assert train.targets.bincount().tolist() == [30] * 9
    assert repr(test) == ("SequenceDataset('JapaneseVowels_TEST.ts.gz', N=370, T=7..29, step "
                          "(12,), 9 classes)")  # named by its file, as errors name it
    motions = read_ts(FILES / "BasicMotions_TRAIN.ts.gz")
    assert (len(motions), motions.channels, set(motions.lengths.tolist())) == (40, 6, {100})
    assert motions.classes == ["Standing", "Running", "Walking", "Badminton"]
    assert len(read_ts(FILES / "BasicMotions_TEST.ts.gz")) == 40


def test_every_feature_of_the_format(tmp_path: Path) -> None:
    data = read_ts(write(tmp_path, SMALL))
    assert data.name == "x.ts" and data.classes == ["up", "down"]  # the file, not @problemName
    assert data.targets.tolist() == [1, 0] and data.lengths.tolist() == [3, 2]
    torch.testing.assert_close(data.sequences[0], torch.tensor([[1.0, 4], [2, 5], [3, 6]],
                                                               dtype=torch.float64))  # exact
    assert math.isnan(data.sequences[1][1, 0]) and math.isnan(data.sequences[1][0, 1])
    regression = read_ts(write(tmp_path, "@targetLabel true\n@data\n1,2,3:2.5\n4,5:-1\n"))
    assert regression.task == "regression" and regression.targets.tolist() == [2.5, -1.0]
    unlabelled = read_ts(write(tmp_path, "@univariate true\n@data\n1,2,3\n"))
    assert unlabelled.channels == 1 and len(unlabelled) == 1
    with pytest.raises(TsFormatError, match=r"x\.ts, line 2: expected '@classLabel true "
                                            r"<labels>' or '@targetLabel true' in the header"):
        read_ts(write(tmp_path, "@univariate true\n@data\n1,2,3\n"), require_targets=True)


@pytest.mark.parametrize(("text", "message"), [
    ("@classLabel true a\n@data\n1,2:3:a\n",
     r"x\.ts, line 3: expected channels of equal length within a sample; got lengths \[2, 1\]"),
    ("@classLabel true a b\n@data\n1,2:c\n",
     r"line 3: expected a label declared in @classLabel \['a', 'b'\]; got 'c'"),
    ("@classLabel true a\n@data\n1,x:a\n", r"line 3: expected a number, '\?' or NaN; got 'x'"),
    ("@classLabel true a\n1,2:a\n", r"line 2: expected '#', '%', '@' metadata or '@data'"),
    ("@classLabel true a\n", r"expected an '@data' line before the samples"),
    ("@dimensions 2\n@classLabel true a\n@data\n1,2:a\n", r"line 4: expected 2 channels"),
    ("@classLabel true a\n@data\n", r"x\.ts: expected samples after '@data'; found none"),
    ("", r"x\.ts: expected an '@data' line"),
    ("@classLabel true a\n@data\n1,inf:a\n", r"line 3: expected a finite number .*'inf'"),
    ("@targetLabel true\n@data\n1,2:?\n", r"line 3: expected a regression target; got '\?'"),
    ("@univariate true\n@classLabel true a\n@data\n1:2:a\n",
     r"line 4: expected 1 channel \(@univariate true\); got 2"),
    ("@equalLength true\n@classLabel true a\n@data\n1,2:a\n\n1,2,3:a\n",
     r"line 6: expected 2 steps like line 4 \(@equalLength true\); got 3"),
    ("@timeStamps true\n@data\n", r"line 1: expected @timeStamps false; files with time stamps"),
    ("@classLabel true\n@data\n", r"line 1: expected the class labels after @classLabel true"),
    ("@missing maybe\n@data\n", r"line 1: expected @missing true or false; got 'maybe'"),
])
def test_malformed_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(TsFormatError, match=message):
        read_ts(write(tmp_path, text))


# What the archive's files look like in the wild (aeon's and sktime's readers take them all):
# a byte-order mark, '%' comments, tags in any case and spacing, unknown tags, blank lines,
# Windows line ends, a trailing comma, missing values, labels with '.' in them.
WILD = ("\ufeff% a comment in the style of ARFF\r\n#  another\r\n"
        "@PROBLEMNAME   Wild\r\n@timestamps false\r\n@Missing true\r\n@univariate   TRUE\r\n"
        "@equallength false\r\n@someUnknownTag 3\r\n@classlabel true 0.0 1.0\r\n\r\n"
        "@DATA\r\n1.5,2,3,:0.0\r\n\r\n% a comment between samples\r\n4, ?, nan ,7:1.0\r\n")


def test_files_as_found_in_the_wild(tmp_path: Path) -> None:
    path = tmp_path / "wild.ts"
    path.write_bytes(WILD.encode("utf-8"))
    data = read_ts(path)
    assert data.name == "wild.ts" and data.classes == ["0.0", "1.0"]
    assert data.lengths.tolist() == [3, 4] and data.targets.tolist() == [0, 1]
    torch.testing.assert_close(data.sequences[0][:, 0],
                               torch.tensor([1.5, 2.0, 3.0], dtype=torch.float64))
    assert data.sequences[1][:, 0].isnan().tolist() == [False, True, True, False]
    regression = read_ts(write(tmp_path, "@problemname r\n@targetlabel TRUE\n@data\n1,2:0.25\n"))
    assert regression.task == "regression" and regression.targets.tolist() == [0.25]


SUITE = REPO.parent / "shared" / "data" / "ucr"  # beside a checkout in /work
SIZES = {"ArrowHead_TRAIN": (36, 251), "ArrowHead_TEST": (175, 251),
         "Covid3Month_TRAIN": (140, 84), "Covid3Month_TEST": (61, 84),
         "Covid3Month_disc_TRAIN": (140, 84), "Covid3Month_disc_TEST": (61, 84),
         "GunPoint_TRAIN": (50, 150), "GunPoint_TEST": (150, 150),
         "ItalyPowerDemand_TRAIN": (67, 24), "ItalyPowerDemand_TEST": (1029, 24),
         "OSULeaf_TRAIN": (200, 427), "OSULeaf_TEST": (242, 427)}


def check_archive_file(path: Path) -> None:
    """Sizes as published, no value lost, the task from the header."""
    data = read_ts(path)
    assert (len(data), int(data.lengths.max())) == SIZES[path.name.split(".")[0]]
    assert not any(bool(s.isnan().any()) for s in data.sequences)
    regression = path.name.startswith("Covid3Month_T")
    assert data.task == ("regression" if regression else "classification")


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.ts.gz")), ids=lambda p: p.name)
def test_real_archive_files(path: Path) -> None:
    check_archive_file(path)
    data = read_ts(path)
    if data.task == "classification":
        assert data.classes == (["0.0", "1.0", "2.0"] if "disc" in path.name else ["1", "2"])


@pytest.mark.skipif(not SUITE.is_dir(), reason="the development suite (shared/data/ucr) is "
                    "not beside this checkout")
def test_the_whole_development_suite() -> None:
    """Every file of ../shared/data/ucr (where aeon 1.6.0 read the same sizes)."""
    for path in sorted(SUITE.glob("*.ts.gz")):
        check_archive_file(path)


def test_npz_round_trips_in_both_layouts(tmp_path: Path) -> None:
    data = read_ts(write(tmp_path, SMALL)).subset([0, 1])
    save_npz(data, tmp_path / "ragged.npz")
    back = load_npz(tmp_path / "ragged.npz")
    assert back.classes == ["up", "down"] and torch.equal(back.targets, data.targets)
    for a, b in zip(back.sequences, data.sequences, strict=True):
        torch.testing.assert_close(a, b, equal_nan=True)
    x = np.zeros((2, 4, 3), dtype="float32")
    x[0, :2], x[1] = 1.0, 2.0
    np.savez(tmp_path / "padded.npz", X=x, lengths=np.array([2, 4]), y=np.array([0.5, 1.5]),
             extra=np.arange(3))
    padded = load_npz(tmp_path / "padded.npz")
    assert padded.task == "regression" and padded.lengths.tolist() == [2, 4]
    assert torch.equal(padded.sequences[0], torch.ones(2, 3))
    np.savez(tmp_path / "ints.npz", X=x, y=np.array([2, 0]))
    ints = load_npz(tmp_path / "ints.npz")  # the distinct labels, in numeric order
    assert ints.classes == ["0", "2"] and ints.targets.tolist() == [1, 0]
    np.savez(tmp_path / "huge.npz", X=x, y=np.array([100_000_000, -3]))
    assert load_npz(tmp_path / "huge.npz").classes == ["-3", "100000000"]  # not 1e8 classes


@pytest.mark.parametrize("layout", ["padded", "ragged", "float64", "fortran", "zip64"])
def test_an_uncompressed_npz_is_memory_mapped_and_never_written(tmp_path: Path,
                                                                 layout: str) -> None:
    """np.savez's X is read through a copy-on-write map of the file (the samples are views
    of it), np.savez_compressed's is loaded: the same dataset either way."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 25, 3)).astype("float64" if layout == "float64" else "float32")
    arrays: dict[str, np.ndarray] = {"X": x, "y": np.arange(40) % 3}
    if layout == "ragged":
        arrays = {"X": x.reshape(-1, 3), "y": np.arange(40) % 3, "lengths": np.full(40, 25)}
    if layout == "fortran":
        arrays["X"] = np.asfortranarray(x)
    mapped, loaded = tmp_path / "mapped.npz", tmp_path / "loaded.npz"
    np.savez(mapped, **arrays)
    if layout == "zip64":  # a member with a zip64 extra field in its local header
        import zipfile
        with zipfile.ZipFile(mapped, "w", zipfile.ZIP_STORED) as archive:
            for key, value in arrays.items():
                with archive.open(f"{key}.npy", "w", force_zip64=True) as handle:
                    np.lib.format.write_array(handle, value)
    np.savez_compressed(loaded, **arrays)
    before = mapped.read_bytes()
    a, b = load_npz(mapped), load_npz(loaded)
    assert torch.equal(a.targets, b.targets) and a.classes == b.classes
    for p, q in zip(a.sequences, b.sequences, strict=True):
        assert torch.equal(p, q)
    assert torch.equal(a.fit_standardization().mean, b.fit_standardization().mean)
    spans = [[int(v, 16) for v in line.split()[0].split("-")]
             for line in Path("/proc/self/maps").read_text().splitlines()
             if line.endswith(str(mapped))]  # where this process maps the file (Linux)
    inside = any(lo <= a.sequences[-1].data_ptr() < hi for lo, hi in spans)
    assert inside
    a.sequences[0][0, 0] = 1e6  # copy-on-write: the file keeps its bytes
    assert mapped.read_bytes() == before


def test_statistics_in_blocks_equal_the_whole() -> None:
    """moments over blocks (data that never exists whole) = numpy over the whole."""
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(1000, 4)) * np.array([1.0, 1e-30, 1e300, 1.0])
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 3] = np.nan
    sequences = [torch.tensor(x[i:i + 37]) for i in range(0, 1000, 37)]
    mean, std = moments(lambda: channel_blocks(sequences, values=100), 1)
    whole_mean, whole_std = moments(torch.tensor(x), 0)
    torch.testing.assert_close(mean, whole_mean, rtol=1e-12, atol=0)
    torch.testing.assert_close(std, whole_std, rtol=1e-12, atol=0)
    np.testing.assert_allclose(mean[:2].numpy(), np.nanmean(x[:, :2], 0), rtol=1e-12)
    np.testing.assert_allclose(std[:2].numpy(), np.nanstd(x[:, :2], 0), rtol=1e-12)
    assert (mean[3], std[3]) == (0.0, 1.0)  # no values: mean 0, std 1


@pytest.mark.parametrize(("arrays", "message"), [
    ({"X": np.zeros((2, 3, 1))}, r"expected arrays 'X' and 'y'.*missing \['y'\]"),
    ({"X": np.zeros((3, 3, 1)), "y": np.zeros(2)}, r"N = len\(y\) = 2; got shape \(3, 3, 1\)"),
    ({"X": np.zeros((5, 1)), "y": np.zeros(2), "lengths": np.array([2, 2])},
     r"'lengths' summing to 5; got lengths 4"),
    ({"X": np.zeros((2, 3, 1)), "y": np.zeros(2), "lengths": np.array([4, 1])},
     r"lengths in \[1, T=3\]"),
    ({"X": np.zeros(4), "y": np.zeros(2)}, r"got shape \(4,\)"),
    ({"X": np.zeros((2, 3, 1)), "y": np.zeros((2, 2), dtype=int)},
     r"expected class labels y \(N,\); got shape \(2, 2\)"),
    ({"X": np.zeros((2, 3, 1)), "y": np.zeros(2), "lengths": np.array([2.0, 3.5])},
     r"expected integer lengths; got dtype float64 \(values \[2.0, 3.5\]\)"),
    ({"X": np.array([[[0.0], [np.inf]], [[1.0], [2.0]]]), "y": np.zeros(2)},
     r"expected finite values in X \(NaN for a missing value\); got inf at X\[0, 1, 0\]"),
    ({"X": np.zeros((2, 3, 1)), "y": np.array([0.5, np.nan])},
     r"expected finite targets y; got nan for sample 1"),
    ({"X": np.zeros((2, 3, 1)), "y": np.array(["a", "c"]), "classes": np.array(["a", "b"])},
     r"expected labels among 'classes' \['a', 'b'\]; got \['c'\]"),
    ({"X": np.array([[["x"]], [["y"]]]), "y": np.zeros(2)}, r"expected numbers in X; got dtype"),
])
def test_npz_errors(tmp_path: Path, arrays: dict[str, np.ndarray], message: str) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message):
        load_npz(tmp_path / "bad.npz")


def test_collate_pads_with_zeros_and_returns_lengths() -> None:
    data = SequenceDataset([torch.ones(3, 2), 2 * torch.ones(1, 2)], torch.tensor([1, 0]),
                           classes=["a", "b"])
    batch = next(iter(DataLoader(data, batch_size=2, collate_fn=pad_collate)))
    assert batch.x.shape == (2, 3, 2) and batch.lengths.tolist() == [3, 1]
    assert (batch.x[1, 1:] == 0).all() and (batch.x[1, 0] == 2).all()
    assert batch.y.tolist() == [1, 0]
    lstm = timedist.LSTM(2, 4, return_sequences=False)  # the lengths go straight to a layer
    assert lstm(batch.x, lengths=batch.lengths).shape == (2, 4)


def test_standardization_is_fitted_on_the_training_split_only() -> None:
    train, test = load_dataset("japanese-vowels")
    assert train.standardization is test.standardization is not None
    values = torch.cat([train[i][0] for i in range(len(train))])
    torch.testing.assert_close(values.mean(0), torch.zeros(12), atol=1e-4, rtol=0)
    torch.testing.assert_close(values.std(0, unbiased=False), torch.ones(12), atol=1e-4, rtol=0)
    raw = torch.cat(read_ts(FILES / "JapaneseVowels_TRAIN.ts.gz").sequences)
    torch.testing.assert_close(train.standardization.mean, raw.mean(0))
    rest, validation = train.split(0.2, seed=1)
    assert (len(rest), len(validation)) == (216, 54)
    assert validation.targets.tolist() == train.split(0.2, seed=1)[1].targets.tolist()


def test_forecast_windows_are_the_true_continuation() -> None:
    series = torch.arange(30.0)
    train, test = forecast_windows(series, lookback=4, horizon=2, test_size=6, name="ramp")
    scale = train.target_scale
    assert scale is not None
    torch.testing.assert_close(scale.mean, series[:24].mean().view(1))
    unscale = lambda v: v * scale.std + scale.mean  # noqa: E731
    for data in (train, test):
        for x, y in (data[i] for i in range(len(data))):
            first = unscale(x[0, 0])
            torch.testing.assert_close(unscale(x[:, 0]), first + torch.arange(4.0))
            torch.testing.assert_close(unscale(y), first + 4 + torch.arange(2.0))
    assert float(unscale(train[len(train) - 1][1][-1])) == pytest.approx(23)  # train ends at 24
    assert float(unscale(test[0][1][0])) == pytest.approx(24)  # test targets start after it
    assert float(unscale(test[len(test) - 1][1][-1])) == pytest.approx(29)


def test_datasets_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name, sizes in (("japanese-vowels", "270    370"), ("basic-motions", "40     40"),
                        ("sunspots", "249    40"), ("airline", "108    24"),
                        ("moving-digits ", "6000   1000"),
                        ("moving-digits-forecast", "2000   400")):
        assert name in out and sizes in out
    with pytest.raises(ValueError, match="expected one of japanese-vowels"):
        load_dataset("mnist")
