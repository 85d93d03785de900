"""A model together with its task kind: how every trained model is called, and what every
checkpoint holds — without Lightning (``train.module.SequenceTask`` adds training to it)."""

from __future__ import annotations

import inspect

from torch import Tensor, nn

from ..data import Task

__all__ = ["TaskModel", "as_input"]


def as_input(x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
    """Drop ``lengths`` when every sample is full length (the layers' fastest path)."""
    return x, (None if bool((lengths == x.shape[1]).all()) else lengths)


class TaskModel(nn.Module):
    """``model`` for one task kind (:class:`~timedist.data.Task`), called on
    a padded batch: forward(x (B, T, ...), lengths (B,)) -> the model's outputs (B, ...);
    lengths reach models whose ``forward`` takes them. Its state dict is the model's under
    ``model.``, the keys every run's checkpoint uses."""

    def __init__(self, model: nn.Module, task: Task | str) -> None:
        super().__init__()
        self.model, self.task = model, Task(task)
        self.takes_lengths = "lengths" in inspect.signature(model.forward).parameters

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        x, maybe = as_input(x, lengths)
        out: Tensor = self.model(x, lengths=maybe) if self.takes_lengths else self.model(x)
        return out
