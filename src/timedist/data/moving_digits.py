"""Moving digits: clips of MNIST digits moving on a canvas, generated deterministically.

Built from the 5000 MNIST digits shipped with timedist (500 per class); train and test clips
use disjoint digit images (400 and 100 per class). Generation is vectorised: the default
sizes take well under a second after the digits are decoded.

- Classification (:func:`moving_digits`): one digit moves in a straight line up, down, left or
  right; the label is digit and direction ("7-up", 40 classes). Opposite directions visit the
  same positions (a trajectory is drawn, then run forwards or backwards), so only the order of
  the frames tells up from down: a model needs a per-frame CNN (which digit) and a temporal
  model (which way).
- Forecasting (:func:`moving_digits_forecast`): one or two digits bouncing off the walls;
  the first ``frames_in`` frames are the input, the next ``frames_out`` the target.

Clips are (T, 1, S, S) float tensors in [0, 1]; S = ``canvas``.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .dataset import SequenceDataset

__all__ = ["DIRECTIONS", "digits", "moving_digits", "moving_digits_forecast"]

DIRECTIONS = ("up", "down", "left", "right")


@lru_cache(maxsize=1)
def _mnist() -> tuple[Tensor, Tensor]:
    """(5000, 28, 28) float in [0, 1] and (5000,) labels, from the shipped csv.gz."""
    path = Path(str(resources.files("timedist.data") / "files" / "mnist_5k.csv.gz"))
    with gzip.open(path, "rt") as handle:
        rows = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    return torch.from_numpy(rows[:, :784] / 255.0).view(-1, 28, 28), torch.from_numpy(
        rows[:, 784]).long()


def digits(split: str, size: int = 14) -> tuple[Tensor, Tensor]:
    """The digit images of one split ("train": 400 per class, "test": 100), resized to
    (N, size, size), and their labels; the two splits never share an image."""
    images, labels = _mnist()
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(1234))
    per_class = [order[labels[order] == d] for d in range(10)]
    pick = torch.cat([idx[:400] if split == "train" else idx[400:] for idx in per_class])
    if split not in ("train", "test"):
        raise ValueError(f"digits: expected split 'train' or 'test'; got {split!r}")
    resized = F.interpolate(images[pick].unsqueeze(1), size=(size, size), mode="area")
    return resized.squeeze(1), labels[pick]


def _paint(canvas: int, images: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """Clips (N, T, 1, S, S): images (N, k, k) drawn at top-left corners rows/cols (N, T)."""
    n, steps = rows.shape
    k = images.shape[-1]
    offsets = torch.arange(k)
    r = (rows[:, :, None, None] + offsets[:, None]).expand(n, steps, k, k)
    c = (cols[:, :, None, None] + offsets[None, :]).expand(n, steps, k, k)
    clip = torch.zeros(n, steps, canvas, canvas)
    batch = torch.arange(n)[:, None, None, None].expand(n, steps, k, k)
    time = torch.arange(steps)[None, :, None, None].expand(n, steps, k, k)
    clip[batch, time, r, c] = images[:, None].expand(n, steps, k, k)
    return clip.unsqueeze(2)


def moving_digits(split: str, *, count: int = 6000, steps: int = 8, canvas: int = 32,
                  digit_size: int = 14, speed: int = 2, seed: int = 0) -> SequenceDataset:
    """``count`` clips (T=steps, 1, canvas, canvas) of one digit moving in a straight line.

    Labels index ``classes`` = ["0-up", "0-down", ..., "9-right"] (digit * 4 + direction).
    """
    travel = (steps - 1) * speed
    room = canvas - digit_size
    if travel > room:
        raise ValueError(f"moving_digits: expected (steps - 1) * speed <= canvas - digit_size = "
                         f"{room}; got {travel}")
    images, labels = digits(split, digit_size)
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 10_000))
    pick = torch.randint(len(labels), (count,), generator=g)
    direction = torch.randint(4, (count,), generator=g)
    start = torch.randint(room - travel + 1, (count,), generator=g)  # along the motion
    across = torch.randint(room + 1, (count,), generator=g)  # perpendicular, fixed
    path = start[:, None] + speed * torch.arange(steps)  # (N, T), increasing
    backwards = (direction == 0) | (direction == 2)  # up and left walk the same path reversed
    path = torch.where(backwards[:, None], path.flip(1), path)
    vertical = (direction < 2)[:, None]
    rows = torch.where(vertical, path, across[:, None].expand(-1, steps))
    cols = torch.where(vertical, across[:, None].expand(-1, steps), path)
    clips = _paint(canvas, images[pick], rows, cols)
    classes = [f"{d}-{name}" for d in range(10) for name in DIRECTIONS]
    targets = labels[pick] * 4 + direction
    return SequenceDataset(list(clips), targets, classes=classes, name=f"moving-digits-{split}")


def moving_digits_forecast(split: str, *, count: int = 2000, frames_in: int = 5,
                           frames_out: int = 5, canvas: int = 32, digit_size: int = 14,
                           num_digits: int = 2, speed: int = 2, seed: int = 0) -> SequenceDataset:
    """Clips of ``num_digits`` digits bouncing off the walls: x (frames_in, 1, S, S) ->
    y (frames_out, 1, S, S), the true continuation of the same motion."""
    images, _ = digits(split, digit_size)
    g = torch.Generator().manual_seed(seed + (0 if split == "train" else 10_000))
    steps, room = frames_in + frames_out, canvas - digit_size
    clips = torch.zeros(count, steps, 1, canvas, canvas)
    for _ in range(num_digits):
        pick = torch.randint(len(images), (count,), generator=g)
        position = torch.randint(room + 1, (count, 2), generator=g)
        velocity = torch.randint(-speed, speed + 1, (count, 2), generator=g)
        velocity[velocity == 0] = speed
        path = []
        for _ in range(steps):
            path.append(position)
            position = position + velocity
            out = (position < 0) | (position > room)  # bounce: reflect position and velocity
            velocity = torch.where(out, -velocity, velocity)
            position = torch.where(position < 0, -position, position)
            position = torch.where(position > room, 2 * room - position, position)
        path_t = torch.stack(path, 1)  # (N, T, 2)
        layer = _paint(canvas, images[pick], path_t[..., 0], path_t[..., 1])
        clips = torch.maximum(clips, layer)
    return SequenceDataset(list(clips[:, :frames_in]), clips[:, frames_in:],
                           name=f"moving-digits-forecast-{split}")
