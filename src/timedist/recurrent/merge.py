"""Merging the forward and backward directions of a bidirectional layer (Keras' ``merge_mode``)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["MERGE_MODES", "merge_directions"]

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def merge_directions(
    forward: Tensor, backward: Tensor, mode: str | None, dim: int = -1
) -> Tensor | tuple[Tensor, Tensor]:
    """Combine two aligned direction outputs of the same shape.

    Shape:
        forward, backward: (..., U, ...) with U at ``dim``.
        Output: ``"concat"``: U doubled at ``dim`` (forward first); ``"sum"``, ``"mul"``,
        ``"ave"``: same shape; ``None``: the pair ``(forward, backward)`` unchanged.
    """
    if mode == "concat":
        return torch.cat([forward, backward], dim=dim)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    if mode == "ave":
        return (forward + backward) / 2
    return forward, backward
