"""Own clips (issue 15, part 1): layouts, manifest, decoding against the frames written,
sampling indices, the dataset, and bad files. Videos are written in tmp_path with PyAV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import frames, write_pngs, write_video

from timedist.data import pad_collate
from timedist.data.clips import (
    Clip,
    ClipDataset,
    ClipError,
    find_clips,
    read_clip,
    sample_indices,
)

av = pytest.importorskip("av")
pytest.importorskip("PIL.Image")


def test_png_frames_are_read_exactly(tmp_path: Path) -> None:
    clip = np.random.default_rng(0).integers(0, 256, (5, 12, 10, 3), dtype=np.uint8)
    decoded, rate = read_clip(write_pngs(tmp_path / "clip", clip))
    assert rate == 0.0
    np.testing.assert_array_equal(decoded.numpy(), clip)


@pytest.mark.parametrize("size", [32, 128])
def test_h264_frames_match_the_frames_written(tmp_path: Path, size: int) -> None:
    clip = frames(12, size)
    decoded, rate = read_clip(write_video(tmp_path / "c.mp4", clip, fps=25))
    assert decoded.shape == clip.shape and decoded.dtype == torch.uint8 and rate == 25.0
    error = np.abs(decoded.numpy().astype(int) - clip.astype(int))
    assert error.mean() < 3.0  # lossy codec + 4:2:0 chroma
    with av.open(str(tmp_path / "c.mp4")) as container:  # PyAV's per-frame conversion
        ffmpeg = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])
    np.testing.assert_array_equal(decoded.numpy(), ffmpeg)


def test_a_manifest_window_keeps_its_seconds(tmp_path: Path) -> None:
    write_video(tmp_path / "c.mp4", frames(30, 32), fps=10)
    (tmp_path / "m.csv").write_text("path,label,start,end\nc.mp4,wave,1.0,2.0\n")
    (clip,) = find_clips(tmp_path / "m.csv")["all"]
    assert clip == Clip((tmp_path / "c.mp4").resolve(), "wave", 1.0, 2.0)
    decoded, _ = read_clip(clip)
    assert len(decoded) == 10  # frames 10..19
    whole, _ = read_clip(tmp_path / "c.mp4")
    torch.testing.assert_close(decoded, whole[10:20])


def test_layouts(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_video(_mkdir(root / "walk") / "b.mp4", frames(4, 32))
    write_pngs(root / "walk" / "a", frames(3, 16))
    write_video(_mkdir(root / "run") / "x.mp4", frames(4, 32))
    (root / "run" / "notes.txt").write_text("not a clip")
    found = find_clips(root)
    assert list(found) == ["all"]
    assert [(c.path.name, c.label) for c in found["all"]] == [
        ("x.mp4", "run"), ("a", "walk"), ("b.mp4", "walk")]
    split = tmp_path / "split"
    for part in ("train", "test"):
        write_video(_mkdir(split / part / "jump") / "j.mp4", frames(4, 32))
    assert list(find_clips(split)) == ["train", "test"]


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(("write", "message"), [
    (lambda p: p.write_bytes(b""), r"empty\.mp4: not a readable video"),
    (lambda p: p.write_text("hello"), r"empty\.mp4: not a readable video"),
])
def test_unreadable_videos_name_the_file(tmp_path: Path, write: object, message: str) -> None:
    path = tmp_path / "empty.mp4"
    write(path)  # type: ignore[operator]
    with pytest.raises(ClipError, match=message):
        read_clip(path)


def test_a_truncated_video_is_an_error_or_its_frames(tmp_path: Path) -> None:
    """Cut after the header: no frames is an error naming the file; a later cut keeps what
    decodes (what FFmpeg players show)."""
    data = write_video(tmp_path / "c.mp4", frames(20, 32)).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[:200])
    with pytest.raises(ClipError, match=r"cut\.mp4: (not a readable video|no frames)"):
        read_clip(tmp_path / "cut.mp4")


@pytest.mark.parametrize(("content", "message"), [
    ("file,class\n", r"line 1: expected a clip manifest with the header path,label\[,start,end\]"),
    ("path,label\na.mp4\n", r"line 2: expected 2 or 4 columns"),
    ("path,label,start,end\na.mp4,x,2,1\n", r"line 2: expected 0 <= start < end; got 2.0, 1.0"),
    ("path,label,start,end\na.mp4,x,one,2\n", r"line 2: expected start and end in seconds"),
    ("path,label\n", r"expected at least one clip row"),
])
def test_manifest_errors_name_the_line(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "m.csv").write_text(content)
    with pytest.raises(ClipError, match=message):
        find_clips(tmp_path / "m.csv")


def test_empty_folders_are_named(tmp_path: Path) -> None:
    _mkdir(tmp_path / "data")
    with pytest.raises(ClipError, match=r"data: expected <label>/<clip>.*found no clips"):
        find_clips(tmp_path / "data")
    _mkdir(tmp_path / "data" / "walk")  # a class without clips would vanish
    with pytest.raises(ClipError, match=r"data/walk: a label folder without clips"):
        find_clips(tmp_path / "data")


def test_sampling_indices() -> None:
    assert sample_indices(10, 5).tolist() == [1, 3, 5, 7, 9]  # segment centres
    assert sample_indices(3, 8).tolist() == [0, 1, 2]  # a short clip keeps its length
    # every 25/5 = 5th frame, the window (42..57) centred on the clip's middle (49.5)
    assert sample_indices(100, 4, fps=5, rate=25).tolist() == [42, 47, 52, 57]
    gen = torch.Generator().manual_seed(0)
    crops = [sample_indices(50, 8, train=True, generator=gen) for _ in range(50)]
    assert all(len(c) == 8 and (c.diff() > 0).all() and c.min() >= 0 and c.max() < 50
               for c in crops)
    assert len({tuple(c.tolist()) for c in crops}) > 10  # training sees different moments
    gen_a, gen_b = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    assert torch.equal(sample_indices(50, 8, train=True, generator=gen_a),
                       sample_indices(50, 8, train=True, generator=gen_b))
    fps = sample_indices(100, 4, fps=5, rate=25, train=True, generator=gen)
    assert fps.diff().tolist() == [5, 5, 5]


def test_dataset_items_and_lengths(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_video(_mkdir(root / "a") / "long.mp4", frames(20, 48))
    write_pngs(root / "b" / "short", frames(3, 40, seed=1))
    clips = find_clips(root)["all"]
    data = ClipDataset(clips, frames=8, size=32)
    assert data.classes == ["a", "b"]
    x, y = data[0]
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and int(y) == 0
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    batch = pad_collate([data[0], data[1]])
    assert batch.lengths.tolist() == [8, 3] and batch.x.shape == (2, 8, 3, 32, 32)
    gray = ClipDataset(clips, frames=8, size=(24, 32), grayscale=True, train=True)
    assert gray[1][0].shape == (3, 1, 24, 32)
    with pytest.raises(ClipError, match=r"clips: expected labels among the training "
                       r"classes \['a'\]; got \['b'\]"):
        ClipDataset(clips, frames=4, size=8, classes=["a"])


def test_bad_clips_are_found_before_training(tmp_path: Path) -> None:
    from timedist.data.clips import check_clips, class_counts, imbalance

    root = tmp_path / "data"
    for i in range(4):
        write_video(_mkdir(root / "walk") / f"{i}.mp4", frames(4, 32))
    write_video(_mkdir(root / "run") / "ok.mp4", frames(4, 32))
    (root / "run" / "broken.mp4").write_bytes(b"\x00" * 64)
    write_pngs(root / "run" / "pngs", frames(2, 16))
    (root / "run" / "pngs" / "00001.png").write_bytes(b"not a png")
    clips = find_clips(root)["all"]
    with pytest.raises(ClipError, match=r"broken\.mp4: not a readable video"):
        check_clips(clips)
    seen: list[tuple[int, int]] = []
    good, bad = check_clips(clips, skip_bad=True, progress=lambda d, n: seen.append((d, n)))
    assert [c.path.name for c, _ in bad] == ["broken.mp4"]  # the PNG folder's first frame reads
    assert len(good) == 6 and seen[-1] == (7, 7)
    with pytest.raises(ClipError, match=r"00001\.png: not a readable image"):
        read_clip(root / "run" / "pngs")
    assert class_counts(good) == {"run": 2, "walk": 4}
    assert imbalance({"run": 2, "walk": 4}) is None
    assert imbalance({"run": 1, "walk": 4}) == ("classes are imbalanced: 'walk' has 4 clips, "
                                                "'run' has 1 (4.0x)")


def test_the_cache_gives_the_same_items_and_notices_edits(tmp_path: Path) -> None:
    import os

    root = tmp_path / "data"
    path = write_video(_mkdir(root / "a") / "c.mp4", frames(20, 32))
    clips = find_clips(root)["all"]
    plain = ClipDataset(clips, frames=6, size=24, train=True, seed=1)
    cached = ClipDataset(clips, frames=6, size=24, train=True, seed=1, cache=tmp_path / "cache")
    first = cached[0][0]
    assert sorted(p.suffix for p in (tmp_path / "cache").iterdir()) == [".json", ".npy"]
    torch.testing.assert_close(first, plain[0][0], rtol=0, atol=0)
    torch.testing.assert_close(cached[0][0], first, rtol=0, atol=0)  # from the cache
    write_video(path, frames(20, 32, seed=5))  # the user edits the clip
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    torch.testing.assert_close(cached[0][0], plain[0][0], rtol=0, atol=0)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 2


def test_frames_are_read_in_number_order(tmp_path: Path) -> None:
    """1.png ... 12.png, as ``ffmpeg -i clip.mp4 %d.png`` writes them: 10.png comes after
    9.png, not after 1.png."""
    from PIL import Image

    folder = tmp_path / "clip"
    folder.mkdir()
    for t in range(1, 13):
        Image.fromarray(np.full((4, 4, 3), t * 10, np.uint8)).save(folder / f"{t}.png")
    decoded, _ = read_clip(folder)
    assert decoded[:, 0, 0, 0].tolist() == [t * 10 for t in range(1, 13)]


def test_16_bit_frames_keep_their_levels(tmp_path: Path) -> None:
    from PIL import Image

    folder = tmp_path / "depth"
    folder.mkdir()
    ramp = (np.arange(64, dtype=np.uint32).reshape(8, 8) * 1040).astype(np.uint16)
    Image.fromarray(ramp).save(folder / "0.png")
    with Image.open(folder / "0.png") as image:
        assert image.mode.startswith("I")  # a 16-bit greyscale PNG
    decoded, _ = read_clip(folder)
    expected = np.round(ramp.astype(float) * 255 / 65535)
    np.testing.assert_allclose(decoded[0, :, :, 0].numpy(), expected, atol=0.5)
    assert len(np.unique(decoded.numpy())) > 50  # not flattened to a couple of levels


def test_a_folder_of_clips_with_a_stray_image_is_one_error(tmp_path: Path) -> None:
    from timedist.data import find_inputs

    write_video(tmp_path / "in" / "a.mp4", frames(4, 16))
    write_video(tmp_path / "in" / "b.mp4", frames(4, 16))
    assert [c.path.name for c in find_inputs(tmp_path / "in")] == ["a.mp4", "b.mp4"]
    write_pngs(tmp_path / "thumb", frames(1, 16))
    (tmp_path / "thumb" / "00000.png").rename(tmp_path / "in" / "cover.png")
    with pytest.raises(ClipError, match=r"in: holds frame images \(cover\.png\) and clips "
                                        r"\(a\.mp4\); expected a folder of frames or a folder "
                                        r"of clips, not both"):
        find_inputs(tmp_path / "in")


def test_a_blank_manifest_label_is_one_error(tmp_path: Path) -> None:
    write_video(tmp_path / "c.mp4", frames(4, 16))
    (tmp_path / "m.csv").write_text("path,label\nc.mp4,  \n")
    with pytest.raises(ClipError, match=r"m\.csv: line 2: expected a label in the second "
                                        r"column; got a blank one for 'c\.mp4'"):
        find_clips(tmp_path / "m.csv")
