"""Video decoders for own clips, side by side (not a test): decode speed and fidelity.

Writes 40 H.264 clips (32 frames, 64x64 and 128x128, a moving square) and the same frames as
PNG folders into a temporary folder, then decodes every clip to uint8 RGB with each decoder
installed: timedist's reader (PyAV with one reused scaler), PyAV's per-frame
``to_ndarray("rgb24")``, OpenCV and decord (if installed: ``pip install
opencv-python-headless decord``), and Pillow for the PNG folders. One thread each. Then the
loader: ``ClipDataset`` (16 frames sampled, resized to 64x64) in a DataLoader with 2 workers,
against a straightforward loop doing the same with the fastest decoder found.

    python benchmarks/decoders.py [--quick] [--rounds N]
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from timedist.data.clips import read_clip

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import bench_main, machine_line
from clip_folders import write_video


def _clip(size: int, n: int = 32) -> np.ndarray:
    out = np.zeros((n, size, size, 3), np.uint8)
    out[..., 1] = 40
    for t in range(n):
        left = (t * 3) % (size - 8)
        out[t, 4:12, left : left + 8] = 255
    return out


def _decoders() -> dict[str, Callable[[str], np.ndarray]]:
    import av

    def pyav_rgb(path: str) -> np.ndarray:
        with av.open(path) as container:
            return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])

    found: dict[str, Callable[[str], np.ndarray]] = {
        "timedist read_clip (PyAV, one reused scaler)": lambda p: read_clip(p)[0].numpy(),
        "PyAV, to_ndarray('rgb24') per frame": pyav_rgb,
    }
    try:
        import cv2

        cv2.setNumThreads(1)

        def opencv(path: str) -> np.ndarray:
            capture, out = cv2.VideoCapture(path), []
            while True:
                ok, image = capture.read()
                if not ok:
                    break
                out.append(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
            capture.release()
            return np.stack(out)

        found["OpenCV VideoCapture"] = opencv
    except ImportError:
        pass
    try:
        import decord

        found["decord VideoReader"] = lambda p: decord.VideoReader(p, num_threads=1).get_batch(
            list(range(len(decord.VideoReader(p))))).asnumpy()
    except ImportError:
        pass
    return found


def run(quick: bool, rounds: int) -> None:
    from PIL import Image

    torch.set_num_threads(1)
    print(f"machine: {machine_line()}\n")
    print("| clip | decoder | ms per clip | frames/s | mean abs error vs written |")
    print("|---|---|---:|---:|---:|")
    count = 4 if quick else 40
    with tempfile.TemporaryDirectory() as folder:
        for size in (64, 128):
            frames = _clip(size)
            paths = []
            for i in range(count):
                paths.append(str(Path(folder) / f"c{size}_{i}.mp4"))
                write_video(Path(paths[-1]), frames)
            pngs = Path(folder) / f"png{size}"
            pngs.mkdir()
            for t, image in enumerate(frames):
                Image.fromarray(image).save(pngs / f"{t:05d}.png")
            decoders = _decoders()
            decoders["Pillow, PNG folder"] = lambda _p, d=pngs: np.stack(
                [np.asarray(Image.open(f)) for f in sorted(d.iterdir())])
            for name, decode in decoders.items():
                error = np.abs(decode(paths[0]).astype(int) - frames.astype(int)).mean()
                best = float("inf")
                for _ in range(rounds):
                    start = time.perf_counter()
                    for path in paths:
                        decode(path)
                    best = min(best, (time.perf_counter() - start) / len(paths))
                print(f"| {size}x{size}, 32 frames | {name} | {best * 1e3:.2f} | "
                      f"{32 / best:.0f} | {error:.2f} |")


def _loader(quick: bool, rounds: int) -> None:
    """Decoded, sampled, resized clips per second: ClipDataset with 2 workers vs one loop."""
    from torch.nn import functional as F
    from torch.utils.data import DataLoader

    from timedist.data import ClipDataset, find_clips, pad_collate, sample_indices

    count = 8 if quick else 64
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "clips"
        for label in ("a", "b"):
            (root / label).mkdir(parents=True)
            for i in range(count // 2):
                write_video(root / label / f"{i}.mp4", _clip(128, 48))
        clips = find_clips(root)["all"]
        data = ClipDataset(clips, frames=16, size=64)
        loader = DataLoader(data, batch_size=8, num_workers=2, collate_fn=pad_collate,
                            persistent_workers=True)
        cached = DataLoader(ClipDataset(clips, frames=16, size=64, cache=Path(folder) / "cache"),
                            batch_size=8, num_workers=2, collate_fn=pad_collate,
                            persistent_workers=True)
        fastest_name, fastest = next(iter(_decoders().items()))
        for name, decode in _decoders().items():
            if "OpenCV" in name:
                fastest_name, fastest = name, decode

        def loop() -> None:
            for clip in clips:
                video = torch.from_numpy(fastest(str(clip.path)))
                keep = sample_indices(len(video), 16)
                x = video[keep].permute(0, 3, 1, 2).float() / 255
                F.interpolate(x, size=(64, 64), mode="bilinear", antialias=True)

        def workers() -> None:
            for _ in loader:
                pass

        def from_cache() -> None:
            for _ in cached:
                pass

        print(f"\n| loader, {len(clips)} clips of 48 frames 128x128 -> 16 x 64x64 | clips/s |")
        print("|---|---:|")
        workers()  # start the workers outside the timing
        from_cache()  # ... and fill the cache (the first epoch)
        for name, run in ((f"one loop, {fastest_name}", loop),
                          ("ClipDataset, DataLoader(num_workers=2)", workers),
                          ("the same with cache=DIR, later epochs", from_cache)):
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                run()
                best = min(best, time.perf_counter() - start)
            print(f"| {name} | {len(clips) / best:.0f} |")


def main(quick: bool, rounds: int) -> None:
    run(quick, rounds)
    _loader(quick, rounds)


if __name__ == "__main__":
    bench_main(__doc__.splitlines()[0], main, rounds=3)
