"""What a set of samples is, by content: a fingerprint of the whole set (a run keeps it, so
``--resume`` and ``evaluate`` know when the data changed) and a key per sample (so a test set
that repeats training samples is said, not reported as a test).

A signal's key (:func:`sample_keys`) is its shape, where its values are missing, its size
(log of the root mean square), its mean and spread relative to that size, and eight random
projections of its deviations from the mean divided by their norm, each rounded to a step of
1e-3. A copy whose rounding errors are below ~1e-6 of the sample's spread (float32, text of
six or seven significant digits, unless a large offset dwarfs the variation) keeps its key
(bar a rare value at a rounding boundary: ~0.5% of samples at six digits); two different
samples share one only if all of that agrees to ~0.1%, and a copy rounded coarser than that
is other data.
The fingerprint of a set (what ``--resume`` compares) hashes the exact values (float64
bytes). Clips are keyed by their label-free content: every byte of a video, every frame of a
frame folder (in natural order); reading clips' bytes costs far less than decoding them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .clips import FRAME_SUFFIXES, Clip, ClipDataset, natural_key
from .dataset import SequenceDataset

__all__ = ["clip_keys", "comparable", "exact_keys", "fingerprint", "overlap", "sample_keys"]

_CLIPS = "clips2:"  # clip fingerprints of every byte (earlier ones read a video's edges)


def _file_key(path: Path) -> bytes:
    digest = hashlib.sha256()
    files = sorted((f for f in path.iterdir() if f.suffix.lower() in FRAME_SUFFIXES),
                   key=lambda f: natural_key(f.name)) if path.is_dir() else [path]
    for file in files:
        digest.update(f"{file.name if path.is_dir() else ''}:{file.stat().st_size};".encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.digest()


def clip_keys(clips: Sequence[Clip]) -> list[bytes]:
    """One key per clip (a video file or a folder of frames, and its manifest window: two
    windows of one video are two samples), as :func:`sample_keys`."""
    keys = []
    for clip in clips:
        key = _file_key(clip.path)
        if clip.start is not None or clip.end is not None:
            key = hashlib.sha256(key + f"|{clip.start}|{clip.end}".encode()).digest()
        keys.append(key)
    return keys


_STEP = 1e-3  # rounding of a key's projections and log-norm: ~0.1% of the sample's size
_PROJECTIONS, _BLOCK = 8, 4096


@lru_cache(maxsize=256)
def _block(index: int) -> np.ndarray:
    """Columns ``index * _BLOCK ...`` of the fixed random projection (8, _BLOCK): a sample of
    d values is projected on the first d columns, whatever other sizes were seen before."""
    return np.random.default_rng(index).standard_normal((_PROJECTIONS, _BLOCK))


def _near_key(values: np.ndarray) -> bytes:
    """The key of one signal sample (T, C...) as float64: see the module. Computed on the
    values divided by their largest magnitude, so any float64 (1e300 too) stays finite."""
    flat = values.reshape(-1)
    missing = np.isnan(flat)
    digest = hashlib.sha256(f"near1:{values.shape}".encode())
    digest.update(np.packbits(missing).tobytes())
    largest = float(np.abs(flat[~missing]).max(initial=0.0))
    if largest == 0:  # all missing, or all zeros
        return digest.digest()
    z = np.where(missing, 0.0, flat / largest)
    mean = float(z[~missing].mean())
    rms = math.sqrt(float(np.mean(np.square(z[~missing]))))  # in (0, 1]
    deviation = np.where(missing, 0.0, z - mean)
    spread = float(np.linalg.norm(deviation))
    numbers = [math.log(largest) + math.log(rms), mean / rms,
               spread / (rms * math.sqrt(len(flat)))]
    if spread > 0:  # the shape, whatever the offset and scale
        numbers += (sum(_block(i)[:, : len(part)] @ part for i, part in enumerate(
            np.split(deviation, range(_BLOCK, len(flat), _BLOCK)))) / spread).tolist()
    digest.update(np.round(np.array(numbers) / _STEP).astype(np.int64).tobytes())
    return digest.digest()


def sample_keys(dataset: SequenceDataset | ClipDataset) -> list[bytes]:
    """One key per sample (N,): equal keys mean the same input, also when saved again with
    less precision (signals), or the same clip content."""
    if isinstance(dataset, ClipDataset):
        return clip_keys(dataset.clips)
    return [_near_key(sequence.double().numpy()) for sequence in dataset.sequences]


def exact_keys(dataset: SequenceDataset | ClipDataset) -> list[bytes]:
    """One key per sample (N,) of its exact values (the SHA-256 of its shape and float64
    bytes; clips as :func:`sample_keys`)."""
    if isinstance(dataset, ClipDataset):
        return sample_keys(dataset)
    keys = []
    for sequence in dataset.sequences:
        values = np.ascontiguousarray(sequence.double().numpy())
        keys.append(hashlib.sha256(str(values.shape).encode() + values.tobytes()).digest())
    return keys


def fingerprint(dataset: SequenceDataset | ClipDataset) -> str:
    """The SHA-256 (hex) of a whole set: its class names, and every sample's exact key and
    target, in order."""
    digest = hashlib.sha256(repr(dataset.classes).encode())
    targets = dataset.targets.double().numpy() if dataset.targets.is_floating_point() else (
        dataset.targets.numpy())
    for key, target in zip(exact_keys(dataset), targets, strict=True):
        digest.update(key)
        digest.update(np.ascontiguousarray(target).tobytes())
    return (_CLIPS if isinstance(dataset, ClipDataset) else "") + digest.hexdigest()


def comparable(a: str, b: str) -> bool:
    """Whether two fingerprints were made the same way (clips' keys once read only a video's
    edges: fingerprints of that time, without the prefix, are not compared)."""
    return a.startswith(_CLIPS) == b.startswith(_CLIPS)


def overlap(train: SequenceDataset | ClipDataset, test: SequenceDataset | ClipDataset) -> int:
    """How many samples of ``test`` are also in ``train`` (same key)."""
    seen = set(sample_keys(train))
    return sum(key in seen for key in sample_keys(test))
