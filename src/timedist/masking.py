"""Variable-length helpers: lengths <-> mask, reversing valid steps, picking the last valid step.

A *mask* is a (B, T) bool tensor, True on valid steps. *Lengths* is a (B,) integer tensor; sample
``b`` is valid on steps ``0 .. lengths[b] - 1`` (a prefix). Every function takes ``batch_first``
for tensors laid out (B, T, ...) (default) or (T, B, ...); masks and lengths are always (B, T)
and (B,).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ._checks import shape_error, tracing, type_error

__all__ = [
    "last_valid",
    "lengths_to_mask",
    "mask_to_lengths",
    "resolve_lengths",
    "resolve_mask",
    "reverse_valid",
]


def lengths_to_mask(lengths: Tensor, steps: int) -> Tensor:
    """(B,) lengths -> (B, T) bool mask with ``mask[b, t] = t < lengths[b]``.

    >>> lengths_to_mask(torch.tensor([2, 0, 3]), 3).int().tolist()
    [[1, 1, 0], [0, 0, 0], [1, 1, 1]]
    """
    return torch.arange(steps, device=lengths.device) < lengths.unsqueeze(-1)


def mask_to_lengths(mask: Tensor, *, layer: str = "mask_to_lengths") -> Tensor:
    """(B, T) prefix mask -> (B,) int64 lengths (the number of valid steps of each sample).

    Raises ValueError (naming ``layer``) if a sample's valid steps are not a prefix (a hole, or
    padding first); the check runs in eager mode only (a traced graph counts the valid steps).
    """
    lengths = mask.sum(dim=1)
    if tracing():
        return lengths.long()
    wrong = (lengths_to_mask(lengths, mask.shape[1]) != mask).any(dim=1).nonzero()
    if wrong.numel():
        b = int(wrong[0])
        raise shape_error(
            layer, "a (B, T) prefix mask (valid steps first, then padding)",
            mask.shape, where=f"whose sample {b} is {mask[b].int().tolist()}",
        )
    return lengths.long()


def _check_mask(layer: str, mask: object, batch: int, steps: int) -> Tensor:
    if not isinstance(mask, Tensor):
        raise type_error(layer, "mask to be a bool Tensor", mask)
    expected = f"mask (B, T) = ({batch}, {steps}) of dtype torch.bool"
    if mask.dtype != torch.bool:
        raise shape_error(layer, expected, mask.shape, where=f"and dtype {mask.dtype}",
                          hint="Use mask.bool() (True marks a valid step)")
    if tuple(mask.shape) != (batch, steps):
        raise shape_error(layer, expected, mask.shape)
    return mask


def _check_lengths(layer: str, lengths: object, batch: int, steps: int, minimum: int) -> Tensor:
    if not isinstance(lengths, Tensor):
        lengths = torch.as_tensor(lengths)
    expected = f"lengths (B,) = ({batch},) of integers in [{minimum}, T={steps}]"
    if lengths.is_floating_point() or lengths.is_complex() or lengths.dtype == torch.bool:
        raise shape_error(layer, expected, lengths.shape, where=f"and dtype {lengths.dtype}")
    if tuple(lengths.shape) != (batch,):
        raise shape_error(layer, expected, lengths.shape)
    if batch and not tracing() and not bool(((lengths >= minimum) & (lengths <= steps)).all()):
        raise shape_error(layer, expected, lengths.shape, where=f"with values {lengths.tolist()}")
    return lengths.long()


def resolve_mask(
    layer: str, mask: Tensor | None, lengths: Tensor | None, batch: int, steps: int
) -> Tensor | None:
    """Validate ``mask`` (B, T) bool (any pattern) or ``lengths`` (B,) ints in [0, T].

    Returns a (B, T) bool mask, or None when neither is given. Errors name the expected and
    received shape (or values): wrong rank or size, a non-bool mask, non-integer lengths,
    lengths out of range, or both arguments at once.
    """
    if mask is not None and lengths is not None:
        raise ValueError(f"{layer}: expected mask or lengths, not both")
    if mask is not None:
        return _check_mask(layer, mask, batch, steps)
    if lengths is not None:
        return lengths_to_mask(_check_lengths(layer, lengths, batch, steps, 0), steps)
    return None


def resolve_lengths(
    layer: str,
    mask: Tensor | None,
    lengths: Tensor | None,
    batch: int,
    steps: int,
    *,
    minimum: int = 1,
) -> Tensor | None:
    """Validate ``lengths`` (B,) ints in [minimum, T], or a (B, T) *prefix* ``mask``.

    Returns (B,) int64 lengths, or None when neither is given. A mask with holes (valid steps
    after padding) is an error, as are the errors of :func:`resolve_mask`. Value checks run in
    eager mode only; shapes and dtypes are checked always.
    """
    if mask is not None and lengths is not None:
        raise ValueError(f"{layer}: expected mask or lengths, not both")
    if mask is not None:
        lengths = mask_to_lengths(_check_mask(layer, mask, batch, steps), layer=layer)
    if lengths is not None:
        return _check_lengths(layer, lengths, batch, steps, minimum)
    return None


def _time_index(lengths: Tensor, steps: int) -> Tensor:
    """(B, T) index that reverses each sample's first ``lengths[b]`` steps and fixes the rest."""
    t = torch.arange(steps, device=lengths.device)
    rev = lengths.unsqueeze(-1) - 1 - t
    return torch.where(rev >= 0, rev, t)


def reverse_valid(x: Tensor, lengths: Tensor, *, batch_first: bool = True) -> Tensor:
    """Reverse the valid steps of every sample; padded steps stay where they are.

    Shape:
        x: (B, T, ...) (or (T, B, ...) with ``batch_first=False``); lengths: (B,).
        Output: same shape as ``x``. ``reverse_valid(reverse_valid(x, l), l) == x``.

    >>> x = torch.arange(4.).view(1, 4, 1)
    >>> reverse_valid(x, torch.tensor([3])).flatten().tolist()
    [2.0, 1.0, 0.0, 3.0]
    """
    xb = x if batch_first else x.transpose(0, 1)
    if lengths.shape != (xb.shape[0],):
        raise shape_error("reverse_valid", f"lengths (B,) = ({xb.shape[0]},)", lengths.shape)
    index = _time_index(lengths.to(x.device), xb.shape[1])
    rows = torch.arange(xb.shape[0], device=x.device).unsqueeze(-1)
    out = xb[rows, index]
    return out if batch_first else out.transpose(0, 1)


def last_valid(x: Tensor, lengths: Tensor, *, batch_first: bool = True) -> Tensor:
    """Each sample's last valid step: ``x[b, lengths[b] - 1]``; zeros where ``lengths[b] == 0``.

    Shape:
        x: (B, T, ...) (or (T, B, ...) with ``batch_first=False``); lengths: (B,).
        Output: (B, ...).
    """
    xb = x if batch_first else x.transpose(0, 1)
    if lengths.shape != (xb.shape[0],):
        raise shape_error("last_valid", f"lengths (B,) = ({xb.shape[0]},)", lengths.shape)
    if xb.shape[1] == 0:
        return xb.new_zeros((xb.shape[0], *xb.shape[2:]))
    lengths = lengths.to(x.device)
    picked = xb[torch.arange(xb.shape[0], device=x.device), (lengths - 1).clamp(min=0)]
    keep = (lengths > 0).view(-1, *([1] * (picked.dim() - 1)))
    return torch.where(keep, picked, torch.zeros_like(picked))
