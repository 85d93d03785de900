"""What a set of samples is, by content: a fingerprint of the whole set (a run keeps it, so
``--resume`` and ``evaluate`` know when the data changed) and a key per sample (so a test set
that repeats training samples is said, not reported as a test).

Signals are keyed by their values (float64 bytes, so a file read again gives the same key);
clips by their label-free content: a video's size and its first and last 64 KiB, a frame
folder's frame names, sizes and first frame.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .clips import FRAME_SUFFIXES, ClipDataset, natural_key
from .dataset import SequenceDataset

__all__ = ["fingerprint", "overlap", "sample_keys"]

_EDGE = 64 << 10  # bytes of a video's head and tail in its key


def _file_key(path: Path) -> bytes:
    digest = hashlib.sha256()
    if path.is_dir():
        frames = sorted((f for f in path.iterdir() if f.suffix.lower() in FRAME_SUFFIXES),
                        key=lambda f: natural_key(f.name))
        for frame in frames:
            digest.update(f"{frame.name}:{frame.stat().st_size};".encode())
        if frames:
            digest.update(frames[0].read_bytes())
        return digest.digest()
    size = path.stat().st_size
    digest.update(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(_EDGE))
        if size > 2 * _EDGE:
            handle.seek(size - _EDGE)
            digest.update(handle.read(_EDGE))
    return digest.digest()


def sample_keys(dataset: SequenceDataset | ClipDataset) -> list[bytes]:
    """One key per sample (N,): equal keys mean the same input (values, or clip content)."""
    if isinstance(dataset, ClipDataset):
        return [_file_key(clip.path) for clip in dataset.clips]
    keys = []
    for sequence in dataset.sequences:
        values = np.ascontiguousarray(sequence.double().numpy())
        keys.append(hashlib.sha256(str(values.shape).encode() + values.tobytes()).digest())
    return keys


def fingerprint(dataset: SequenceDataset | ClipDataset) -> str:
    """The SHA-256 (hex) of a whole set: its class names, and every sample's key and target,
    in order."""
    digest = hashlib.sha256(repr(dataset.classes).encode())
    targets = dataset.targets.double().numpy() if dataset.targets.is_floating_point() else (
        dataset.targets.numpy())
    for key, target in zip(sample_keys(dataset), targets, strict=True):
        digest.update(key)
        digest.update(np.ascontiguousarray(target).tobytes())
    return digest.hexdigest()


def overlap(train: SequenceDataset | ClipDataset, test: SequenceDataset | ClipDataset) -> int:
    """How many samples of ``test`` are also in ``train`` (same key)."""
    seen = set(sample_keys(train))
    return sum(key in seen for key in sample_keys(test))
