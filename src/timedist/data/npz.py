"""The user's own sequences from a NumPy ``.npz`` file (no pickles).

Two layouts of ``X``: padded (N, T, C) with optional ``lengths`` (N,), or ragged — the
concatenation (sum of lengths, C) of all samples — with ``lengths`` (N,). ``y`` holds integer or
string labels (classification; string classes in the order of an optional ``classes`` array,
else sorted) or float targets (regression). Other arrays are ignored.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .dataset import SequenceDataset

__all__ = ["load_npz", "save_npz"]


def load_npz(path: str | Path, *, require_targets: bool = True) -> SequenceDataset:
    """Read ``X``, ``y`` and optional ``lengths`` from ``path`` into a SequenceDataset.

    Padded ``X`` may also hold frames (N, T, C, H, W). With ``require_targets=False`` a file
    without ``y`` (inputs to predict) loads with zero float targets.
    """
    name = Path(path).name
    with np.load(path, allow_pickle=False) as arrays:
        needed = ("X", "y") if require_targets else ("X",)
        missing = [k for k in needed if k not in arrays]
        if missing:
            raise ValueError(f"{name}: expected arrays {' and '.join(map(repr, needed))} (and "
                             f"optional 'lengths'); missing {missing}, found "
                             f"{sorted(arrays.files)}")
        x = arrays["X"]
        lengths = arrays["lengths"] if "lengths" in arrays else None  # noqa: SIM401
        count = len(x) if lengths is None or x.ndim != 2 else len(lengths)
        y = arrays["y"] if "y" in arrays else np.zeros(count, dtype=np.float32)
        order = [str(c) for c in arrays["classes"]] if "classes" in arrays else None
    if lengths is not None and (lengths.ndim != 1 or len(lengths) != len(y)):
        raise ValueError(f"{name}: expected lengths (N,) = ({len(y)},) for y of shape "
                         f"{y.shape}; got shape {lengths.shape}")
    if x.ndim >= 3:
        if len(x) != len(y):
            raise ValueError(f"{name}: expected X (N, T, C, ...) with N = len(y) = {len(y)}; got "
                             f"shape {x.shape}")
        steps = np.full(len(x), x.shape[1]) if lengths is None else lengths
        if steps.min(initial=1) < 1 or steps.max(initial=0) > x.shape[1]:
            raise ValueError(f"{name}: expected lengths in [1, T={x.shape[1]}]; got values "
                             f"{steps.tolist()[:10]}")
        sequences = [torch.as_tensor(x[i, : int(n)]) for i, n in enumerate(steps)]
    elif x.ndim == 2:
        if lengths is None or int(lengths.sum()) != len(x):
            raise ValueError(f"{name}: expected ragged X (sum of lengths, C) with 'lengths' "
                             f"summing to {len(x)}; got lengths "
                             f"{None if lengths is None else int(lengths.sum())}")
        sequences = list(torch.split(torch.as_tensor(x), [int(n) for n in lengths]))
    else:
        raise ValueError(f"{name}: expected X (N, T, C) or ragged (sum of lengths, C); got "
                         f"shape {x.shape}")
    if y.dtype.kind in "USO":  # string labels, in the order of 'classes' if given
        classes = order or sorted({str(v) for v in y})
        targets = torch.tensor([classes.index(str(v)) for v in y])
        return SequenceDataset(sequences, targets, classes=classes, name=name)
    if y.dtype.kind in "iub":
        classes = [str(c) for c in range(int(y.max()) + 1)]
        return SequenceDataset(sequences, torch.as_tensor(y, dtype=torch.long), classes=classes,
                               name=name)
    return SequenceDataset(sequences, torch.as_tensor(y, dtype=torch.float32), name=name)


def save_npz(dataset: SequenceDataset, path: str | Path) -> None:
    """Write ``dataset`` in the ragged layout (X, lengths, y; class names and their order)."""
    x, lengths = torch.cat(dataset.sequences).numpy(), dataset.lengths.numpy()
    if dataset.classes is None:
        np.savez(path, X=x, lengths=lengths, y=dataset.targets.numpy())
        return
    labels = np.array([dataset.classes[int(i)] for i in dataset.targets])
    np.savez(path, X=x, lengths=lengths, y=labels, classes=np.array(dataset.classes))
