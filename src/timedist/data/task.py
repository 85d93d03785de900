"""The task kind: what a run predicts from its samples, decided by their targets in one place.

:class:`Task` is a string enum (``str`` and ``Enum``; its text is its value):
``Task.CLASSIFICATION == "classification"``, so what run directories of earlier versions
stored (``preprocessing.json``) reads back unchanged, and JSON writes it as its text.

>>> Task("regression") is Task.REGRESSION, f"{Task.FRAMES}"
(True, 'frames')
"""

from __future__ import annotations

from enum import Enum

from torch import Tensor

__all__ = ["Task"]


class Task(str, Enum):
    """``classification`` (one class per sample, from ``classes``), ``regression`` (a
    vector of values per sample: targets (N, O)) or ``frames`` (future frames per sample:
    targets (N, horizon, C, H, W))."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"
    FRAMES = "frames"

    def __str__(self) -> str:
        return str(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self.value), spec)

    @classmethod
    def of(cls, classes: object, targets: Tensor) -> Task:
        """The task of samples with these ``classes`` (None: no classes) and ``targets``
        (N, ...)."""
        if classes is not None:
            return Task.CLASSIFICATION
        return Task.FRAMES if targets.dim() >= 4 else Task.REGRESSION
