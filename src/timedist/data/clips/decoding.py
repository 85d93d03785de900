"""Decoding clips: a video with PyAV (FFmpeg; the ``video`` extra, imported when a video is
read) or a frame folder with Pillow, into uint8 (N, H, W, 3); every clip opened before training
(``check_clips``), naming a bad file."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..._checks import shorten_text
from .discovery import FRAME_SUFFIXES, Clip, ClipError, natural_key

__all__ = ["check_clips", "frame_size", "read_clip"]


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
