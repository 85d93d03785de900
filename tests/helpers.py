"""Shared test helpers: the layer check every timedist layer goes through (Keras'
``run_layer_test``), and ``snapshot`` of a folder (nothing the user had may change).

``frames``/``write_video``/``write_pngs`` make own clips on disk (PyAV, Pillow) for the clip tests.

``check_layer(layer, *inputs)`` runs forward and backward, compares ``compute_output_shape``
with the real output, round-trips ``state_dict`` and pickle, and compiles the layer with
``torch.compile(fullgraph=True)``; every comparison is asserted.
"""

from __future__ import annotations

import copy
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from torch.utils import _pytree as pytree


def tensor_leaves(tree: Any) -> list[Tensor]:
    return [v for v in pytree.tree_leaves(tree) if isinstance(v, Tensor)]


def assert_trees_close(actual: Any, expected: Any, **tol: Any) -> None:
    """Same structure, every tensor leaf close (``torch.testing.assert_close``)."""
    a_leaves, a_spec = pytree.tree_flatten(actual)
    e_leaves, e_spec = pytree.tree_flatten(expected)
    assert a_spec == e_spec, f"structures differ: {a_spec} vs {e_spec}"
    for a, e in zip(a_leaves, e_leaves, strict=True):
        if isinstance(e, Tensor):
            torch.testing.assert_close(a, e, **tol)
        else:
            assert a == e


def _perturbed_copy(layer: nn.Module) -> nn.Module:
    other = copy.deepcopy(layer)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(torch.randn_like(p))
    return other


def check_layer(
    layer: nn.Module,
    *inputs: Any,
    compile: bool = True,
    backend: str = "aot_eager",
    **kwargs: Any,
) -> Any:
    """Run the shared checks on ``layer(*inputs, **kwargs)``; return the eager output.

    The layer must be deterministic for the given inputs (no dropout in training mode).
    """
    inputs = pytree.tree_map(
        lambda v: v.detach().requires_grad_(v.is_floating_point()) if isinstance(v, Tensor) else v,
        inputs,
    )
    out = layer(*inputs, **kwargs)

    # compute_output_shape agrees with the real output.
    if hasattr(layer, "compute_output_shape") and not kwargs:
        shapes = pytree.tree_map(
            lambda v: tuple(v.shape), inputs, is_leaf=lambda v: isinstance(v, Tensor)
        )
        predicted = layer.compute_output_shape(*shapes)
        real = pytree.tree_map(lambda v: v.shape if isinstance(v, Tensor) else v, out)
        assert predicted == real, f"compute_output_shape {predicted} != real {real}"

    # Backward reaches every trainable parameter and every float input, with finite values.
    loss = sum((v.float() ** 2).sum() for v in tensor_leaves(out) if v.is_floating_point())
    assert isinstance(loss, Tensor)
    loss.backward()
    for name, p in layer.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, f"no gradient for parameter {name}"
            assert torch.isfinite(p.grad).all(), f"non-finite gradient for {name}"
    for x in tensor_leaves(inputs):
        if x.requires_grad and x.numel():
            assert x.grad is not None and torch.isfinite(x.grad).all()

    detached = pytree.tree_map(lambda v: v.detach() if isinstance(v, Tensor) else v, inputs)
    with torch.no_grad():
        expected = layer(*detached, **kwargs)

        # state_dict round trip into a copy whose weights were changed.
        other = _perturbed_copy(layer)
        if any(True for _ in layer.parameters()):
            other.load_state_dict(layer.state_dict())
        assert_trees_close(other(*detached, **kwargs), expected)

        # pickle round trip.
        clone = pickle.loads(pickle.dumps(layer))
        assert_trees_close(clone(*detached, **kwargs), expected)

        if compile:
            torch._dynamo.reset()
            compiled = torch.compile(layer, fullgraph=True, backend=backend)
            assert_trees_close(compiled(*detached, **kwargs), expected, atol=1e-5, rtol=1e-4)
    return out


REPO = Path(__file__).parents[1]  # the checkout
FIXTURES = Path(__file__).parent / "fixtures"  # small real files (README there)
GOLDEN = Path(__file__).parent / "golden"


def assert_golden(name: str, text: str) -> None:
    """Compare printed output with ``tests/golden/<name>``.

    ``TIMEDIST_UPDATE_GOLDEN=1 pytest ...`` rewrites the file instead (review the diff!).
    """
    path = GOLDEN / name
    if os.environ.get("TIMEDIST_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path}; run with TIMEDIST_UPDATE_GOLDEN=1 to create it"
    expected = path.read_text()
    assert text == expected, f"output differs from {path} (TIMEDIST_UPDATE_GOLDEN=1 rewrites it)"


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` -> a hash of its bytes (links: their target; empty
    folders: a mark): compare two snapshots to prove that nothing the user had changed."""
    import hashlib

    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir() and not any(path.iterdir()):
            found[key] = "empty folder"
    return found


def replace_with_link(original: Path, target: Path) -> None:
    """Move ``original`` (a file or folder; absent: a new file) to ``target`` and put a link
    to it in its place: what an attacker, or a careless copy, leaves inside a run folder."""
    if original.is_dir():
        original.rename(target)
    else:
        target.write_bytes(original.read_bytes() if original.exists() else b"precious")
        original.unlink(missing_ok=True)
    original.symlink_to(target, target_is_directory=target.is_dir())


def frames(n: int, size: int, seed: int = 0, top: int | None = None) -> np.ndarray:
    """(n, size, size, 3) uint8: a bright square moving right on a smooth background (what
    a lossy codec keeps well), at row ``top`` (default: a random row drawn from ``seed``;
    given a row, ``seed`` draws the column it starts at, so clips of one row differ)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size]
    base = np.stack([x * 200 // size, y * 200 // size, np.full_like(x, 60)], -1)
    out = np.repeat(base[None], n, 0).astype(np.uint8)
    start = int(rng.integers(0, size - 8)) if top is not None else 0
    top = int(rng.integers(0, size - 8)) if top is None else top
    for t in range(n):
        left = (start + t * 2) % (size - 8)
        out[t, top : top + 8, left : left + 8] = 255
    return out


def write_video(path: Path, clip: np.ndarray, fps: int = 10) -> Path:
    """(N, H, W, 3) uint8 -> an H.264 file (crf 10) written with PyAV."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = clip.shape[2], clip.shape[1], "yuv420p"
        stream.options = {"crf": "10"}
        for image in clip:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return path


def write_pngs(folder: Path, clip: np.ndarray) -> Path:
    """(N, H, W, 3) uint8 -> ``folder/00000.png`` ... (Pillow)."""
    from PIL import Image

    folder.mkdir(parents=True)
    for t, image in enumerate(clip):
        Image.fromarray(image).save(folder / f"{t:05d}.png")
    return folder


def labels_of(data: Any) -> list[str]:
    """Each sample's class name (a SequenceDataset with classes)."""
    assert data.classes is not None
    return [data.classes[int(t)] for t in data.targets]


def assert_same_samples(got: Any, want: Any) -> None:
    """Two SequenceDatasets hold the same series, bit for bit (missing values where the other
    has them), and the same labels by name (or the same regression targets)."""
    assert len(got) == len(want)
    for a, b in zip(got.sequences, want.sequences, strict=True):
        assert a.shape == b.shape and torch.equal(a.isnan(), b.isnan())
        assert torch.equal(a.nan_to_num(7.5), b.nan_to_num(7.5))  # every bit of every value
    if want.classes is None:
        assert got.classes is None and torch.equal(got.targets, want.targets)
    else:
        assert labels_of(got) == labels_of(want) and sorted(got.classes) == sorted(want.classes)
