"""Own videos: find clips on disk, decode them, sample frames, and a streaming ``ClipDataset``.

Layouts (what UCF101/HMDB51, torchvision's ``ImageFolder`` and ``ffmpeg -i clip.mp4
%05d.png`` give): ``ROOT/<label>/<clip>.{mp4,avi,mkv,webm,mov,gif}`` or
``ROOT/<label>/<clip>/<frame>.{jpg,jpeg,png}``, optionally under ``ROOT/train``, ``val``,
``test``; or a CSV manifest with columns ``path,label[,start,end]`` (seconds; paths relative
to the manifest). Labels are the folder names, sorted.

Videos are decoded with PyAV (FFmpeg; the ``video`` extra), chosen by measurement
(docs/benchmarks.md): it installs as one wheel with its own FFmpeg (torchcodec needs system
FFmpeg libraries, absent here; decord's last release is from 2021), names what is wrong with
a broken file and gives exact timestamps for manifest windows; OpenCV decodes 1.5-2x faster
per clip but reports a broken file only as "no frame". Frame folders are read with Pillow.

Shapes: a decoded clip is uint8 (N, H, W, C); a dataset item is float (T, C, H, W) in [0, 1]
with T <= ``frames`` (shorter clips keep their length: ``pad_collate`` gives ``lengths``).
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from .._checks import RUN_MARKER, shorten_text
from .dataset import split_indices
from .labels import label_names
from .task import Task

__all__ = [
    "FRAME_SUFFIXES",
    "SPLITS",
    "VIDEO_SUFFIXES",
    "Clip",
    "ClipDataset",
    "ClipError",
    "check_clips",
    "class_counts",
    "find_clips",
    "find_inputs",
    "frame_size",
    "imbalance",
    "natural_key",
    "read_clip",
    "sample_indices",
]

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".gif")
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
SPLITS = ("train", "val", "test")


class ClipError(ValueError):
    """A clip that cannot be read (unreadable, truncated, no frames), or a bad layout; the
    message names the file."""


@dataclass(frozen=True)
class Clip:
    """One clip: a video file or a folder of frames, its label, and an optional time window
    (seconds) from a manifest."""

    path: Path
    label: str
    start: float | None = None
    end: float | None = None


# -- finding clips -----------------------------------------------------------------------------


def find_clips(root: str | Path) -> dict[str, list[Clip]]:
    """The clips under ``root`` (a folder or a ``.csv`` manifest) by split.

    Returns ``{"all": [...]}`` for a folder of label folders, or ``{"train": ..., "val": ...,
    "test": ...}`` (those present) for a folder with split folders; a manifest gives
    ``{"all": ...}``. Clips are sorted by label, then path. Raises ClipError naming the folder
    when it holds no clips.
    """
    root = Path(root)
    if root.suffix.lower() == ".csv":
        return {"all": _read_manifest(root)}
    if not root.is_dir():
        raise ClipError(f"{root}: expected a folder of clips or a .csv manifest; not found")
    _not_a_run(root, root)
    splits = [s for s in SPLITS if (root / s).is_dir()]
    found = {s: _label_folders(root / s) for s in splits} if splits else {
        "all": _label_folders(root)}
    for split, clips in found.items():
        if not clips:
            where = root / split if split != "all" else root
            raise ClipError(f"{where}: expected <label>/<clip>{{{','.join(VIDEO_SUFFIXES)}}} or "
                            f"<label>/<clip>/<frame>{{{','.join(FRAME_SUFFIXES)}}}; found no "
                            "clips")
    return found


def find_inputs(path: str | Path) -> list[Clip]:
    """Clips to predict, without labels: one video file, one frame folder, or every video and
    frame folder under a folder (at any depth, sorted by path, numbers in names compared as
    numbers). ClipError names the path when there is none, when a folder holds both frames
    and clips (which was meant is unclear), or when a timedist run folder is among them (its
    plots are not frames)."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES:
        return [Clip(path, "")]
    for marker in [path / RUN_MARKER, *(path.rglob(RUN_MARKER) if path.is_dir() else ())]:
        _not_a_run(marker.parent, path)
    if _is_frame_folder(path):
        return [Clip(path, "")]
    if not path.is_dir():
        got = f"got a {path.suffix or 'plain'} file" if path.exists() else "not found"
        raise ClipError(f"{path}: expected a video ({', '.join(VIDEO_SUFFIXES)}), a folder of "
                        f"frames or a folder of clips; {got}")
    found = sorted((p for p in path.rglob("*") if not any(part.startswith(".") for part in
                                                          p.relative_to(path).parts)
                    and ((p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
                         or _is_frame_folder(p))), key=lambda p: natural_key(str(p)))
    if not found:
        raise ClipError(f"{path}: expected videos ({', '.join(VIDEO_SUFFIXES)}) or folders of "
                        f"frames ({', '.join(FRAME_SUFFIXES)}); found none")
    return [Clip(p, "") for p in found]


def natural_key(name: str) -> tuple[tuple[str | int, ...], str]:
    """A sort key that compares runs of digits as numbers: ``2.png`` before ``10.png`` (what
    ``ffmpeg -i clip.mp4 %d.png`` writes and a file browser shows).

    >>> sorted(["10.png", "2.png", "1.png"], key=natural_key)
    ['1.png', '2.png', '10.png']
    """
    parts: list[str | int] = [int(p) if i % 2 else p.lower()
                              for i, p in enumerate(re.split(r"(\d+)", name))]
    return tuple(parts), name


def _media(folder: Path) -> tuple[list[Path], list[Path]]:
    """(frame images, clips: videos and sub-folders of frames) directly in ``folder``, hidden
    entries left out."""
    frames, clips = [], []
    for entry in folder.iterdir():
        if entry.name.startswith("."):
            continue
        if entry.is_file() and entry.suffix.lower() in FRAME_SUFFIXES:
            frames.append(entry)
        elif (entry.is_file() and entry.suffix.lower() in VIDEO_SUFFIXES) or (
                entry.is_dir() and any(f.suffix.lower() in FRAME_SUFFIXES
                                       for f in entry.iterdir())):
            clips.append(entry)
    return sorted(frames), sorted(clips)


def _is_frame_folder(path: Path) -> bool:
    """A folder of frame images and no clips; one holding both is a ClipError naming both."""
    if not path.is_dir():
        return False
    frames, clips = _media(path)
    if frames and clips:
        raise ClipError(f"{path}: holds frame images ({frames[0].name}) and clips "
                        f"({clips[0].name}); expected a folder of frames or a folder of clips, "
                        "not both: move the images into a folder of their own")
    return bool(frames)


def _label_folders(root: Path) -> list[Clip]:
    """Every video and every sub-folder of ``root/<label>/`` is a clip: a folder without frames
    is a bad clip (named by :func:`check_clips`), never silently left out. Other files (notes,
    hidden entries) are not clips. ClipError for a label folder without clips (its class would
    vanish), a timedist run folder among the clips, and one clip reached twice (a link)."""
    clips: list[Clip] = []
    seen: dict[Path, Path] = {}
    for label in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        _not_a_run(label, root)
        before = len(clips)
        for item in sorted(label.iterdir(), key=lambda p: natural_key(p.name)):
            if item.name.startswith("."):
                continue
            if item.is_dir():
                _not_a_run(item, root)
                _is_frame_folder(item)  # raises for frames beside clips
            elif not (item.suffix.lower() in VIDEO_SUFFIXES and item.is_file()):
                continue
            first = seen.setdefault(item.resolve(), item)
            if first != item:
                raise ClipError(f"{first} and {item} are the same clip (a link); expected each "
                                "clip once, under one label")
            clips.append(Clip(item, label.name))
        if len(clips) == before:
            raise ClipError(f"{label}: a label folder without clips (expected <clip>"
                            f"{{{','.join(VIDEO_SUFFIXES)}}} or <clip>/<frames> in it): add "
                            "clips, or move it out so its class is not trained on")
    return clips


def _not_a_run(folder: Path, root: Path) -> None:
    """A folder timedist wrote (a run, with its plots) is never read as clips."""
    if (folder / RUN_MARKER).is_file():
        raise ClipError(f"{folder}: is a timedist run folder, not clips"
                        + (f"; move it out of {root}" if folder != root else ""))


def _read_manifest(path: Path) -> list[Clip]:
    """``path,label[,start,end]`` rows (a header row is required); errors name the line."""
    if not path.is_file():
        raise ClipError(f"{path}: no such manifest")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["path", "label"]:
        raise ClipError(f"{path}: line 1: expected a clip manifest with the header "
                        "path,label[,start,end] (signals go in .ts/.ts.gz/.npz files); got "
                        f"{','.join(rows[0]) if rows else 'an empty file'}")
    clips = []
    seen: dict[tuple[Path, float | None, float | None], tuple[int, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) not in (2, 4):
            raise ClipError(f"{path}: line {number}: expected 2 or 4 columns "
                            f"(path,label[,start,end]); got {len(row)}")
        if not row[1].strip():
            raise ClipError(f"{path}: line {number}: expected a label in the second column; "
                            f"got a blank one for {row[0].strip()!r}")
        clip_path = (path.parent / row[0].strip()).resolve()
        window: list[float | None] = [None, None]
        if len(row) == 4:
            try:
                window = [float(row[2]), float(row[3])]
            except ValueError:
                raise ClipError(f"{path}: line {number}: expected start and end in seconds; "
                                f"got {row[2]!r}, {row[3]!r}") from None
            if not 0 <= window[0] < window[1]:  # type: ignore[operator]
                raise ClipError(f"{path}: line {number}: expected 0 <= start < end; got "
                                f"{window[0]}, {window[1]}")
        if not clip_path.exists():
            raise ClipError(f"{path}: line {number}: {row[0].strip()}: no such clip (paths are "
                            f"relative to the manifest's folder)")
        if len(row) == 4 and clip_path.is_dir():
            raise ClipError(f"{path}: line {number}: {row[0].strip()}: a window (start,end in "
                            "seconds) needs a video; a folder of frames has no time axis: drop "
                            "the window, or list the frames you mean as a folder of their own")
        key, label = (clip_path, window[0], window[1]), row[1].strip()
        if key in seen:  # twice: counted twice (and across a split), or two labels for one
            first, first_label = seen[key]
            raise ClipError(f"{path}: line {number}: expected each clip once; "
                            f"{row[0].strip()!r} is listed on line {first} already"
                            + (f" with another label ({first_label!r}, here {label!r})"
                               if label != first_label else ""))
        seen[key] = (number, label)
        clips.append(Clip(clip_path, label, window[0], window[1]))
    if not clips:
        raise ClipError(f"{path}: expected at least one clip row; found none")
    return sorted(clips, key=lambda c: (c.label, str(c.path)))


def check_clips(clips: Sequence[Clip], *, skip_bad: bool = False,
                progress: Callable[[int, int], None] | None = None
                ) -> tuple[list[Clip], list[tuple[Clip, str]]]:
    """Open every clip and decode its first frame, before any training starts.

    Returns (the readable clips, [(bad clip, reason)]). Without ``skip_bad`` the first bad clip
    raises its ClipError (naming the file); with it, bad clips are returned for a warning
    that lists them. ``progress(done, total)`` is called after each clip.
    """
    good, bad = [], []
    for done, clip in enumerate(clips, start=1):
        try:
            frame_size(clip)
            good.append(clip)
        except ClipError as error:
            if not skip_bad:
                raise
            bad.append((clip, str(error)))
        if progress is not None:
            progress(done, len(clips))
    return good, bad


def frame_size(clip: Clip) -> tuple[int, int]:
    """(H, W) of the clip's first frame; ClipError (naming the file) unless it has a decodable
    frame."""
    if clip.path.is_dir():
        return tuple(_read_frames(clip.path, limit=1).shape[1:3])  # type: ignore[return-value]
    import av

    try:
        with av.open(str(clip.path)) as container:
            if not container.streams.video:
                raise ClipError(f"{clip.path}: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "NONE"  # no decoder threads in a process that forks workers
            for frame in container.decode(stream):
                return frame.height, frame.width
    except av.error.FFmpegError as error:
        raise ClipError(f"{clip.path}: not a readable video ({_reason(error)})") from None
    raise ClipError(f"{clip.path}: no frames")


def _reason(error: Exception) -> str:
    """FFmpeg's words for a failure, without PyAV's errno number and repeated path."""
    return str(getattr(error, "strerror", None) or error)


def class_counts(clips: Sequence[Clip]) -> dict[str, int]:
    """Clips per label, labels sorted; :func:`imbalance` says when it matters."""
    counts: dict[str, int] = {}
    for clip in sorted(clips, key=lambda c: c.label):
        counts[clip.label] = counts.get(clip.label, 0) + 1
    return counts


def imbalance(counts: dict[str, int], ratio: float = 3.0) -> str | None:
    """A one-line note when the largest class has ``ratio`` times the clips of the smallest
    (accuracy then flatters a model that favours the large class), else None."""
    if len(counts) < 2:
        return None
    small, large = min(counts, key=counts.__getitem__), max(counts, key=counts.__getitem__)
    if counts[large] < ratio * counts[small]:
        return None
    return (f"classes are imbalanced: {large!r} has {counts[large]} clips, {small!r} has "
            f"{counts[small]} ({counts[large] / counts[small]:.1f}x)")


# -- decoding ------------------------------------------------------------------------------------


def read_clip(clip: Clip | str | Path) -> tuple[Tensor, float]:
    """All frames of a clip (within its window) as uint8 (N, H, W, 3), and its frame rate
    (frames per second; 0 for a frame folder, whose rate is unknown). ClipError names the file
    when it is unreadable, truncated before its first frame, or has no frames."""
    clip = clip if isinstance(clip, Clip) else Clip(Path(clip), "")
    if clip.path.is_dir():
        return _read_frames(clip.path), 0.0
    return _read_video(clip)


def _read_frames(folder: Path, limit: int | None = None) -> Tensor:
    from PIL import Image, UnidentifiedImageError

    files = sorted((f for f in folder.iterdir() if f.suffix.lower() in FRAME_SUFFIXES
                    and not f.name.startswith(".")), key=lambda f: natural_key(f.name))
    for before, after in itertools.pairwise(files):  # 1.png and 01.png: which is first?
        if natural_key(before.name)[0] == natural_key(after.name)[0]:
            raise ClipError(f"{folder}: frames {before.name} and {after.name} have the same "
                            "number; expected one frame per number (frames are read in number "
                            "order)")
    files = files[:limit]
    if not files:
        inside = [p.name for p in folder.iterdir() if not p.name.startswith(".")]
        raise ClipError(f"{folder}: expected frames {'/'.join(FRAME_SUFFIXES)}; found "
                        + (f"only {shorten_text(', '.join(sorted(inside)), 80)}" if inside
                           else "an empty folder"))
    frames = []
    for file in files:
        try:
            with Image.open(file) as image:
                frames.append(_rgb8(image))
        except (OSError, UnidentifiedImageError) as error:
            raise ClipError(f"{file}: not a readable image ({error})") from None
        if frames[-1].shape != frames[0].shape:
            raise ClipError(f"{file}: expected every frame of {folder.name} to be "
                            f"{frames[0].shape[1]}x{frames[0].shape[0]}; got "
                            f"{frames[-1].shape[1]}x{frames[-1].shape[0]}")
    return torch.from_numpy(np.stack(frames))


def _rgb8(image: Any) -> np.ndarray:
    """A Pillow image as (H, W, 3) uint8. 16-bit greyscale (``I;16``, or ``I`` holding 16-bit
    values, as 16-bit PNGs open) is scaled to 8 bits, not clipped to its 256 darkest levels."""
    if image.mode.startswith("I;16") or image.mode == "I":
        values = np.asarray(image).astype(np.int64)
        top = 65535 if values.max(initial=0) <= 65535 else int(values.max())
        scaled = ((values.clip(0, None) * 255 + top // 2) // top).astype(np.uint8)
        return np.repeat(scaled[..., None], 3, axis=-1)
    return np.asarray(image.convert("RGB"))


def _read_video(clip: Clip) -> tuple[Tensor, float]:
    import av
    from av.video.reformatter import VideoReformatter

    # One scaler for the whole clip: PyAV's frame.to_ndarray("rgb24") builds a new one per
    # frame, 2.5x slower at 64x64 (docs/benchmarks.md); the result is bit-identical.
    scaler = VideoReformatter()
    frames: list[np.ndarray] = []
    try:
        with av.open(str(clip.path)) as container:
            if not container.streams.video:
                raise ClipError(f"{clip.path}: no video stream")
            stream = container.streams.video[0]
            stream.thread_type = "NONE"  # DataLoader workers are the parallelism
            rate = float(stream.average_rate or stream.guessed_rate or 0)
            base = float(stream.time_base) if stream.time_base else 0.0
            for frame in container.decode(stream):
                if clip.start is not None and frame.pts is not None and base:
                    second = frame.pts * base
                    if second < clip.start:
                        continue
                    if clip.end is not None and second >= clip.end:
                        break
                frames.append(scaler.reformat(frame, format="rgb24").to_ndarray())
    except av.error.FFmpegError as error:
        raise ClipError(f"{clip.path}: not a readable video ({_reason(error)})") from None
    if not frames:
        raise ClipError(f"{clip.path}: no frames" + (
            f" between {clip.start} and {clip.end} s" if clip.start is not None else ""))
    return torch.from_numpy(np.stack(frames)), rate


# -- sampling and the dataset ----------------------------------------------------------------------


def sample_indices(total: int, frames: int, *, train: bool = False,
                   generator: torch.Generator | None = None, fps: float | None = None,
                   rate: float = 0.0) -> Tensor:
    """Which of a clip's ``total`` decoded frames to keep: (T,) int64, T = min(frames, what the
    clip has).

    Evaluation (``train=False``): ``frames`` indices spread uniformly over the clip, each at
    the centre of its segment (TSN's test sampling). Training: a random temporal crop — the
    same spacing over a random window of the clip (at least ``frames`` long), so epochs see
    different moments. With ``fps`` (and the clip's ``rate``), frames are taken every
    ``rate / fps`` decoded frames instead of spread over the clip: a window of ``frames``
    at that rate, centred for evaluation, at a random start for training.
    """
    if total < 1:
        raise ValueError(f"sample_indices: expected a clip with frames; got total={total}")
    if fps is not None and rate > 0:
        step = max(rate / fps, 1.0)
        span = min(total, math.floor(step * (frames - 1)) + 1)
        count = min(frames, math.floor((span - 1) / step) + 1)
    else:
        step, span, count = 0.0, total, min(frames, total)
    if train and total > span:
        start = int(torch.randint(0, total - span + 1, (1,), generator=generator))
    elif train and fps is None and total > count:  # a random window at least `frames` long
        span = int(torch.randint(count, total + 1, (1,), generator=generator))
        start = int(torch.randint(0, total - span + 1, (1,), generator=generator))
    else:
        start = (total - span) // 2
    if step:
        offsets = (torch.arange(count) * step).floor().long()
    else:
        offsets = ((torch.arange(count) + 0.5) * span / count).floor().long()
    return (start + offsets).clamp(max=total - 1)


class ClipDataset(Dataset[tuple[Tensor, Tensor]]):
    """Clips decoded on demand (in DataLoader workers), sampled, resized and cropped.

    Args:
        clips: from :func:`find_clips` (or :func:`find_inputs`, with ``labelled=False``).
        frames: T, the frames kept per clip (fewer if a clip is shorter).
        size: the output (H, W) (an int for square frames): the shorter side is resized to
            fit, then a centre crop (evaluation) or a random crop (training).
        classes: label names in index order (default: the clips' labels, sorted).
        train: random temporal and spatial crops (else centred, uniform).
        grayscale: one channel (ITU-R 601 luma) instead of three.
        fps: sample at this rate instead of spreading ``frames`` over the clip.
        cache: a folder for decoded clips (uint8 ``.npy``, read back memory-mapped so only the
            sampled frames are read): epochs after the first skip decoding. Keyed by the
            clip's path, size, modification time and window, so an edited file is decoded
            anew; only files named ``<key>.npy``/``.json`` are written there, atomically.
        seed: the random crops' seed (item i of epoch e uses ``seed + i`` mixed with
            ``epoch``; set :attr:`epoch` between epochs).
        labelled: False for clips without labels (items then carry the label -1).
        name: what messages call this set of clips.

    Items: (x (T, C, H, W) float in [0, 1], label index () int64). Like
    :class:`~timedist.data.SequenceDataset` it has ``classes``, ``targets`` (N,),
    ``step_shape`` (C, H, W) and ``max_length`` (T); its lengths are known only once decoded.
    """

    standardization = None  # pixels in [0, 1], as the model sees them
    target_scale = None

    def __init__(self, clips: Sequence[Clip], frames: int, size: int | tuple[int, int], *,
                 classes: Sequence[str] | None = None, train: bool = False,
                 grayscale: bool = False, fps: float | None = None,
                 cache: str | Path | None = None, seed: int = 0, labelled: bool = True,
                 name: str = "clips") -> None:
        self.clips = list(clips)
        self.cache = None if cache is None else Path(cache)
        self.frames = frames
        self.size = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
        self.labelled, self.name = labelled, name
        self.classes = label_names(list(classes) if classes is not None
                                   else sorted({c.label for c in self.clips}), name)
        unknown = sorted({c.label for c in self.clips} - set(self.classes)) if labelled else []
        if unknown:
            raise ClipError(f"{name}: expected labels among the training classes "
                            f"{self.classes}; got {unknown}")
        self.train, self.grayscale, self.fps, self.seed = train, grayscale, fps, seed
        self.epoch = 0

    def __len__(self) -> int:
        return len(self.clips)

    def __repr__(self) -> str:
        return (f"ClipDataset({self.name!r}, N={len(self)}, T<={self.frames}, step "
                f"{self.step_shape}, {len(self.classes)} classes)")

    @property
    def channels(self) -> int:
        """C of a frame: 1 with ``grayscale``, else 3."""
        return 1 if self.grayscale else 3

    @property
    def step_shape(self) -> tuple[int, int, int]:
        """(C, H, W) of one frame as the model sees it."""
        return (self.channels, *self.size)  # type: ignore[return-value]

    @property
    def max_length(self) -> int:
        """T of every sample: the frames taken per clip."""
        return self.frames

    @property
    def task(self) -> Task:
        """Always classification: a clip's label is its folder or manifest row."""
        return Task.CLASSIFICATION

    @property
    def targets(self) -> Tensor:
        """(N,) int64 label indices (-1 without labels)."""
        index = {c: i for i, c in enumerate(self.classes)}
        return torch.tensor([index.get(c.label, -1) if self.labelled else -1
                             for c in self.clips], dtype=torch.long)

    def _like(self, clips: Sequence[Clip], **changes: object) -> ClipDataset:
        settings: dict[str, object] = dict(
            frames=self.frames, size=self.size, classes=self.classes, train=self.train,
            grayscale=self.grayscale, fps=self.fps, cache=self.cache, seed=self.seed,
            labelled=self.labelled, name=self.name)
        return ClipDataset(clips, **{**settings, **changes})  # type: ignore[arg-type]

    def subset(self, indices: Sequence[int]) -> ClipDataset:
        """The clips at ``indices``, same settings."""
        return self._like([self.clips[i] for i in indices])

    def split(self, fraction: float, *, seed: int = 0) -> tuple[ClipDataset, ClipDataset]:
        """A seeded random (rest, held-out) split, as :meth:`SequenceDataset.split`; the
        held-out part is sampled for evaluation (centred, no random crops)."""
        rest, held = split_indices(len(self), fraction, seed=seed, name=self.name)
        return self.subset(rest), self._like([self.clips[i] for i in held], train=False)

    def evaluation(self) -> ClipDataset:
        """The same clips sampled for evaluation (centred, uniform; no random crops)."""
        return self._like(self.clips, train=False)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        clip = self.clips[index]
        video, rate = read_clip(clip) if self.cache is None else _cached(clip, self.cache)
        generator = torch.Generator().manual_seed(
            (self.seed * 1_000_003 + self.epoch) * 1_000_003 + index)
        keep = sample_indices(len(video), self.frames, train=self.train, generator=generator,
                              fps=self.fps, rate=rate)
        # a cached clip is memory-mapped: indexing it reads only the sampled frames
        x = torch.from_numpy(video[keep.numpy()]) if isinstance(video, np.ndarray) else video[keep]
        x = x.permute(0, 3, 1, 2).float() / 255.0  # (T, 3, H, W)
        if self.grayscale:
            x = (x * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1, keepdim=True)
        x = _resize_crop(x, self.size, generator if self.train else None)
        label = self.classes.index(clip.label) if self.labelled else -1
        return x, torch.tensor(label)


def _cached(clip: Clip, folder: Path) -> tuple[np.ndarray, float]:
    """The clip's frames from the cache (memory-mapped (N, H, W, 3) uint8) — decoded and
    stored first if absent."""
    import hashlib
    import json

    from .._atomic import atomic_write, atomic_write_text

    stat = clip.path.stat()
    identity = f"{clip.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{clip.start}|{clip.end}"
    key = hashlib.sha256(identity.encode()).hexdigest()[:32]
    frames, meta = folder / f"{key}.npy", folder / f"{key}.json"
    if frames.is_file() and meta.is_file():
        try:
            rate = float(json.loads(meta.read_text())["rate"])
            return np.load(frames, mmap_mode="r"), rate
        except (OSError, ValueError, KeyError):
            pass  # a damaged entry is decoded again and replaced
    video, rate = read_clip(clip)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write(frames, lambda handle: np.save(handle, video.numpy()))
    atomic_write_text(meta, json.dumps({"rate": rate, "clip": str(clip.path)}))
    return video.numpy(), rate


def _resize_crop(x: Tensor, size: tuple[int, ...], generator: torch.Generator | None
                 ) -> Tensor:
    """(T, C, H, W) -> (T, C, *size): the shorter side scaled to cover ``size`` (antialiased),
    then a centre crop (``generator`` None) or a random one."""
    height, width = x.shape[-2:]
    scale = max(size[0] / height, size[1] / width)
    target = (max(size[0], round(height * scale)), max(size[1], round(width * scale)))
    if target != (height, width):
        x = F.interpolate(x, size=target, mode="bilinear", antialias=True,
                          align_corners=False).clamp(0, 1)
    spare = (target[0] - size[0], target[1] - size[1])
    if generator is None:
        top, left = spare[0] // 2, spare[1] // 2
    else:
        top = int(torch.randint(0, spare[0] + 1, (1,), generator=generator))
        left = int(torch.randint(0, spare[1] + 1, (1,), generator=generator))
    return x[..., top : top + size[0], left : left + size[1]]
