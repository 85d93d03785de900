"""Sampling a clip's frames (uniform spread, random crops in time for training) and
``ClipDataset``: clips streamed from disk (or a cache of decoded clips) as float (T, C, H, W) in
[0, 1]."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from ..dataset import split_indices
from ..labels import label_names
from ..task import Task
from .decoding import read_clip
from .discovery import Clip, ClipError

__all__ = ["ClipDataset", "sample_indices"]


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

    from ..._atomic import atomic_write, atomic_write_text

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
