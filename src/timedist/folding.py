"""Fold the two leading dimensions (batch and time) into one, and unfold them back, without copies.

``fold`` turns (B, T, ...) into (B*T, ...) (or (T, B, ...) into (T*B, ...)) with
``flatten(0, 1)``, which is a view whenever strides allow. When the input was made by permuting
a (T, B, ...) tensor, the merge is a view only in the other order, so ``fold(x, swap=True)``
merges dim 1 as the outer one; ``unfold`` undoes either. The order of items in the folded batch
never matters to a module that treats its batch items independently.

>>> video = torch.randn(5, 3, 8, 8, 3).permute(0, 1, 4, 2, 3)  # (B, T, C, H, W), channels last
>>> frames = fold(video, swap=choose_swap([video]))
>>> frames.shape, frames.data_ptr() == video.data_ptr()
(torch.Size([15, 3, 8, 8]), True)
>>> frames.is_contiguous(memory_format=torch.channels_last)
True
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

__all__ = ["choose_swap", "fold", "merge_is_view", "unfold"]


def merge_is_view(x: Tensor, swap: bool = False) -> bool:
    """True if merging dims 0 and 1 (dim 1 outer when ``swap``) needs no copy.

    Shape: x: (d0, d1, ...) with rank >= 2.
    """
    outer, inner = (1, 0) if swap else (0, 1)
    return bool(
        x.stride(outer) == x.size(inner) * x.stride(inner)
        or x.size(outer) == 1
        or x.size(inner) == 1
    )


def choose_swap(tensors: Sequence[Tensor]) -> bool:
    """The merge order that lets the most ``tensors`` fold as views (ties: natural order)."""
    if all(merge_is_view(t) for t in tensors):
        return False
    natural = sum(merge_is_view(t) for t in tensors)
    swapped = sum(merge_is_view(t, swap=True) for t in tensors)
    return swapped > natural


def fold(x: Tensor, swap: bool = False) -> Tensor:
    """(d0, d1, ...) -> (d0*d1, ...), item ``i0*d1 + i1`` (``i1*d0 + i0`` when ``swap``).

    A view whenever :func:`merge_is_view` says so; a copy otherwise.
    """
    return (x.transpose(0, 1) if swap else x).flatten(0, 1)


def unfold(y: Tensor, leading: tuple[int, int], swap: bool = False) -> Tensor:
    """Inverse of :func:`fold`: (d0*d1, ...) -> (d0, d1, ...), where ``leading = (d0, d1)``.

    Always a view of ``y`` (transposed back when ``swap``).
    """
    d0, d1 = leading
    if swap:
        return torch.unflatten(y, 0, (d1, d0)).transpose(0, 1)
    return torch.unflatten(y, 0, (d0, d1))
