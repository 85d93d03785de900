"""The moving-digits task written out as own videos: H.264 .mp4 files or PNG frame folders.

Writes ``ROOT/train/<label>/<n>.mp4`` (or ``<n>/<frame>.png``) and ``ROOT/test/...`` from the
built-in clips (the same clips, in the same order, as ``timedist fit --data moving-digits``),
upscaled to ``--size`` pixels (nearest, so 32 stays exact). Used by
``benchmarks/own_videos.py``; runnable alone to make a folder to try ``timedist fit`` on:

    python benchmarks/clip_folders.py ROOT [--format mp4|png] [--size 32] [--train N] [--test N]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from timedist.data import SequenceDataset, moving_digits


def write_video(path: Path, frames: np.ndarray, fps: int = 10, crf: int = 18) -> Path:
    """(N, H, W, 3) uint8 -> an H.264 (yuv420p) file written with PyAV."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        stream.options = {"crf": str(crf)}
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return path


def write_pngs(folder: Path, frames: np.ndarray) -> Path:
    """(N, H, W, 3) uint8 -> ``folder/00000.png`` ..."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for t, image in enumerate(frames):
        Image.fromarray(image).save(folder / f"{t:05d}.png")
    return folder


def as_uint8(clip: torch.Tensor, size: int) -> np.ndarray:
    """(T, 1, S, S) float in [0, 1] -> (T, size, size, 3) uint8 (nearest upscaling)."""
    if clip.shape[-1] != size:
        clip = F.interpolate(clip, size=(size, size), mode="nearest")
    gray = (clip[:, 0] * 255).round().clamp(0, 255).to(torch.uint8).numpy()
    return np.repeat(gray[..., None], 3, -1)


def write_split(dataset: SequenceDataset, root: Path, fmt: str, size: int) -> None:
    """Every clip of ``dataset`` under ``root/<label>/``, numbered in dataset order."""
    assert dataset.classes is not None
    for i, (clip, label) in enumerate(zip(dataset.sequences, dataset.targets.tolist(),
                                          strict=True)):
        folder = root / dataset.classes[label]
        folder.mkdir(parents=True, exist_ok=True)
        frames = as_uint8(clip, size)
        if fmt == "mp4":
            write_video(folder / f"{i:05d}.mp4", frames)
        else:
            write_pngs(folder / f"{i:05d}", frames)


def write_moving_digits(root: Path, fmt: str = "mp4", size: int = 32, train: int = 6000,
                        test: int = 1000, steps: int = 8, canvas: int = 32) -> Path:
    """The built-in task's train and test clips (``train``/``test`` clips, default: as
    ``--data moving-digits``) as ``root/train`` and ``root/test``; ``steps`` frames on a
    ``canvas``, written at ``size`` pixels."""
    settings = dict(steps=steps, canvas=canvas)
    write_split(moving_digits("train", count=train, **settings), root / "train", fmt, size)
    write_split(moving_digits("test", count=test, **settings), root / "test", fmt, size)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--format", choices=("mp4", "png"), default="mp4")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--train", type=int, default=6000)
    parser.add_argument("--test", type=int, default=1000)
    args = parser.parse_args()
    write_moving_digits(args.root, args.format, args.size, args.train, args.test)
    print(f"wrote {args.root}")


if __name__ == "__main__":
    main()
