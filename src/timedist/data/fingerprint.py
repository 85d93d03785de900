"""What a set of samples is, by content: a fingerprint of the whole set (a run keeps it, so
``--resume`` and ``evaluate`` know when the data changed) and a key per sample (so a test set
that repeats training samples is said, not reported as a test).

Signals are keyed by their values (float64 bytes, so a file read again gives the same key);
clips by their label-free content: every byte of a video, every frame of a frame folder (in
natural order). Reading clips' bytes costs far less than decoding them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .clips import FRAME_SUFFIXES, ClipDataset, natural_key
from .dataset import SequenceDataset

__all__ = ["clip_keys", "comparable", "fingerprint", "overlap", "sample_keys"]

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


def clip_keys(paths: list[Path]) -> list[bytes]:
    """One key per clip (a video file or a folder of frames), as :func:`sample_keys`."""
    return [_file_key(path) for path in paths]


def sample_keys(dataset: SequenceDataset | ClipDataset) -> list[bytes]:
    """One key per sample (N,): equal keys mean the same input (values, or clip content)."""
    if isinstance(dataset, ClipDataset):
        return clip_keys([clip.path for clip in dataset.clips])
    keys = []
    for sequence in dataset.sequences:
        values = np.ascontiguousarray(sequence.double().numpy())
        keys.append(hashlib.sha256(str(values.shape).encode() + values.tobytes()).digest())
    return keys


def fingerprint(dataset: SequenceDataset | ClipDataset, keys: list[bytes] | None = None
                ) -> str:
    """The SHA-256 (hex) of a whole set: its class names, and every sample's key and target,
    in order (``keys``: the set's :func:`sample_keys`, when already computed)."""
    digest = hashlib.sha256(repr(dataset.classes).encode())
    targets = dataset.targets.double().numpy() if dataset.targets.is_floating_point() else (
        dataset.targets.numpy())
    for key, target in zip(sample_keys(dataset) if keys is None else keys, targets,
                           strict=True):
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
