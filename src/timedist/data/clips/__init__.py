"""Own videos: find clips on disk (``discovery``), decode them (``decoding``), sample frames and
stream them (``dataset``: ``ClipDataset``).

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

from .dataset import ClipDataset, sample_indices
from .decoding import check_clips, frame_size, read_clip
from .discovery import (
    FRAME_SUFFIXES,
    RECORDING_SUFFIXES,
    SPLITS,
    VIDEO_SUFFIXES,
    Clip,
    ClipError,
    class_counts,
    find_clips,
    find_inputs,
    holds_recordings,
    imbalance,
    is_manifest,
    natural_key,
)

__all__ = [
    "FRAME_SUFFIXES",
    "RECORDING_SUFFIXES",
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
    "holds_recordings",
    "imbalance",
    "is_manifest",
    "natural_key",
    "read_clip",
    "sample_indices",
]
