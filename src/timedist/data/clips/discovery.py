"""Finding clips on disk: the layouts (``<label>/<clip>`` folders, optionally under ``train/``,
``val/``, ``test/``; a CSV manifest ``path,label[,start,end]``; one video, frame folder, or a
folder of them to predict), natural frame order, class counts and imbalance.

The same layouts hold *recordings*: signal files (:data:`RECORDING_SUFFIXES`, one series each)
instead of videos, found with ``recordings=True`` (:func:`holds_recordings` tells them apart).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..._checks import RUN_MARKER

__all__ = ["FRAME_SUFFIXES", "RECORDING_SUFFIXES", "SPLITS", "VIDEO_SUFFIXES", "Clip",
           "ClipError", "class_counts", "find_clips", "find_inputs",
           "holds_recordings", "imbalance", "is_manifest", "natural_key"]


VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".gif")
FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")
SPLITS = ("train", "val", "test")
RECORDING_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".npy", ".parquet")


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


def find_clips(root: str | Path, *, recordings: bool = False) -> dict[str, list[Clip]]:
    """The clips (or, ``recordings``, the recordings) under ``root`` (a folder or a ``.csv``
    manifest) by split.

    Returns ``{"all": [...]}`` for a folder of label folders, or ``{"train": ..., "val": ...,
    "test": ...}`` (those present) for a folder with split folders; a manifest gives
    ``{"all": ...}``. Clips are sorted by label, then path. Raises ClipError naming the folder
    when it holds no clips.
    """
    root = Path(root)
    noun = "recording" if recordings else "clip"
    if root.suffix.lower() == ".csv":
        return {"all": _read_manifest(root, recordings)}
    if not root.is_dir():
        raise ClipError(f"{root}: expected a folder of {noun}s or a .csv manifest; not found")
    _not_a_run(root, root)
    splits = [s for s in SPLITS if (root / s).is_dir()]
    found = {s: _label_folders(root / s, recordings) for s in splits} if splits else {
        "all": _label_folders(root, recordings)}
    for split, clips in found.items():
        if not clips:
            where = root / split if split != "all" else root
            raise ClipError(f"{where}: expected {_expected(recordings)}; found no {noun}s")
    return found


def _is_recording(path: Path) -> bool:
    return path.name.lower().endswith(RECORDING_SUFFIXES) and path.is_file()


def _expected(recordings: bool) -> str:
    if recordings:
        return f"<label>/<recording>{{{','.join(RECORDING_SUFFIXES)}}}"
    return (f"<label>/<clip>{{{','.join(VIDEO_SUFFIXES)}}} or "
            f"<label>/<clip>/<frame>{{{','.join(FRAME_SUFFIXES)}}}")


def holds_recordings(root: str | Path) -> bool:
    """Whether ``root`` holds recordings rather than clips: a manifest whose first row names
    a recording file, or a folder whose first label folder (under its first split folder, if
    any) holds a recording file and no video or sub-folder."""
    root = Path(root)
    if root.is_file():
        if not is_manifest(root):
            return False
        with root.open(newline="", encoding="utf-8-sig") as handle:
            rows = [r for r in csv.reader(handle) if any(c.strip() for c in r)][1:2]
        return bool(rows) and rows[0][0].strip().lower().endswith(RECORDING_SUFFIXES)
    if not root.is_dir():
        return False
    base = next((root / s for s in SPLITS if (root / s).is_dir()), root)
    labels = sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    for label in labels:
        items = [i for i in label.iterdir() if not i.name.startswith(".")]
        if any(i.is_dir() or i.suffix.lower() in VIDEO_SUFFIXES for i in items):
            return False
        if any(_is_recording(i) for i in items):
            return True
    return False


def find_inputs(path: str | Path, *, recordings: bool = False) -> list[Clip]:
    """Clips to predict, without labels: one video file, one frame folder, or every video and
    frame folder under a folder (at any depth, sorted by path, numbers in names compared as
    numbers); or (``recordings``) one recording file or every one under a folder. ClipError
    names the path when there is none, when a folder holds both frames and clips (which was
    meant is unclear), or when a timedist run folder is among them (its plots are not
    frames)."""
    path = Path(path)

    def wanted(item: Path) -> bool:
        if recordings:
            return _is_recording(item)
        return item.is_file() and item.suffix.lower() in VIDEO_SUFFIXES

    if wanted(path):
        return [Clip(path, "")]
    for marker in [path / RUN_MARKER, *(path.rglob(RUN_MARKER) if path.is_dir() else ())]:
        _not_a_run(marker.parent, path)
    if not recordings and _is_frame_folder(path):
        return [Clip(path, "")]
    kinds = (f"recordings ({', '.join(RECORDING_SUFFIXES)})" if recordings else
             f"videos ({', '.join(VIDEO_SUFFIXES)}) or folders of frames "
             f"({', '.join(FRAME_SUFFIXES)})")
    if not path.is_dir():
        got = f"got a {path.suffix or 'plain'} file" if path.exists() else "not found"
        one = (f"a recording ({', '.join(RECORDING_SUFFIXES)}) or a folder of them" if recordings
               else f"a video ({', '.join(VIDEO_SUFFIXES)}), a folder of frames or a folder of "
               "clips")
        raise ClipError(f"{path}: expected {one}; {got}")
    found = sorted((p for p in path.rglob("*") if not any(part.startswith(".") for part in
                                                          p.relative_to(path).parts)
                    and (wanted(p) or (not recordings and _is_frame_folder(p)))),
                   key=lambda p: natural_key(str(p)))
    if not found:
        raise ClipError(f"{path}: expected {kinds}; found none")
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


def _label_folders(root: Path, recordings: bool = False) -> list[Clip]:
    """Every video and every sub-folder of ``root/<label>/`` is a clip: a folder without frames
    is a bad clip (named by :func:`check_clips`), never silently left out. Other files (notes,
    hidden entries) are not clips. ClipError for a label folder without clips (its class would
    vanish), a timedist run folder among the clips, and one clip reached twice (a link).
    ``recordings``: every recording file is one, and nothing else."""
    noun = "recording" if recordings else "clip"
    clips: list[Clip] = []
    seen: dict[Path, Path] = {}
    for label in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        _not_a_run(label, root)
        before = len(clips)
        for item in sorted(label.iterdir(), key=lambda p: natural_key(p.name)):
            if item.name.startswith(".") or (recordings and not _is_recording(item)):
                continue
            if item.is_dir() and not recordings:
                _not_a_run(item, root)
                _is_frame_folder(item)  # raises for frames beside clips
            elif not recordings and not (item.suffix.lower() in VIDEO_SUFFIXES
                                         and item.is_file()):
                continue
            first = seen.setdefault(item.resolve(), item)
            if first != item:
                raise ClipError(f"{first} and {item} are the same {noun} (a link); expected "
                                f"each {noun} once, under one label")
            clips.append(Clip(item, label.name))
        if len(clips) == before:
            raise ClipError(f"{label}: a label folder without {noun}s (expected "
                            f"{_expected(recordings).replace('<label>/', '')} in it): add "
                            f"{noun}s, or move it out so its class is not trained on")
    return clips


def _not_a_run(folder: Path, root: Path) -> None:
    """A folder timedist wrote (a run, with its plots) is never read as clips."""
    if (folder / RUN_MARKER).is_file():
        raise ClipError(f"{folder}: is a timedist run folder, not clips"
                        + (f"; move it out of {root}" if folder != root else ""))


def is_manifest(path: str | Path) -> bool:
    """Whether ``path`` is a clip manifest: a ``.csv`` file whose first line starts with the
    columns ``path,label`` (any case). Any other ``.csv`` is a table of series."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.is_file():
        return False
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            first = next(csv.reader([handle.readline(4096)]), [])
    except (OSError, UnicodeDecodeError):
        return False
    return [c.strip().lower() for c in first[:2]] == ["path", "label"]


def _read_manifest(path: Path, recordings: bool = False) -> list[Clip]:
    """``path,label[,start,end]`` rows (a header row is required; ``recordings``: each path a
    recording file, no window); errors name the line."""
    if not path.is_file():
        raise ClipError(f"{path}: no such manifest")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["path", "label"]:
        raise ClipError(f"{path}: line 1: expected a clip manifest with the header "
                        "path,label[,start,end] (a table of series has other columns); got "
                        f"{','.join(rows[0]) if rows else 'an empty file'}")
    clips = []
    seen: dict[tuple[Path, float | None, float | None], tuple[int, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) not in ((2,) if recordings else (2, 4)):
            raise ClipError(f"{path}: line {number}: expected "
                            + ("2 columns (path,label) for recordings" if recordings else
                               "2 or 4 columns (path,label[,start,end])") + f"; got {len(row)}")
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
            raise ClipError(f"{path}: line {number}: {row[0].strip()}: no such "
                            f"{'recording' if recordings else 'clip'} (paths are relative to "
                            "the manifest's folder)")
        if recordings and not _is_recording(clip_path):
            raise ClipError(f"{path}: line {number}: {row[0].strip()}: expected a recording "
                            f"({', '.join(RECORDING_SUFFIXES)}) like the first row's")
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
