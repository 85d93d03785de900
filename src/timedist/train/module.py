"""The LightningModule that trains any timedist model on a :class:`~timedist.data.Batch`."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..data import Batch, Task
from ..runs.task import TaskModel

__all__ = ["NonFiniteLossError", "SequenceTask"]


class NonFiniteLossError(RuntimeError):
    """The training loss became NaN or infinite; no optimizer step was taken with it."""

    def __init__(self, value: float, epoch: int, batch: int) -> None:
        super().__init__(f"the training loss became {value} at epoch {epoch + 1}, batch "
                         f"{batch + 1}")
        self.epoch, self.batch = epoch, batch


class SequenceTask(TaskModel, pl.LightningModule):
    """Loss, metrics and optimizer around ``model`` for one task (a :class:`TaskModel`: the
    same forward and the same checkpoint keys).

    ``classification``: cross-entropy on logits (B, K), metric accuracy. ``regression`` and
    ``frames``: mean squared error on (B, ...) targets, metric mean absolute error. Batches are
    ``Batch(x (B, T, ...), lengths (B,), y)``; lengths reach models whose ``forward`` takes
    them. AdamW with a one-cycle learning-rate schedule over the whole run, stepped per batch.

    Each training step first re-seeds torch's global generator from (seed, epoch, step), so
    dropout draws do not depend on what ran before: a run resumed from a checkpoint repeats
    the uninterrupted run exactly (Lightning creates data iterators, which draw from the global
    generator, at different moments in a fresh and a resumed run).
    """

    def __init__(self, model: nn.Module, task: Task | str, *, lr: float = 3e-3,
                 weight_decay: float = 0.0, seed: int = 0) -> None:
        super().__init__(model, task)
        self.lr, self.weight_decay, self.seed = lr, weight_decay, seed

    def _step(self, batch: Batch, stage: str) -> Tensor:
        x, lengths, y = batch
        out = self(x, lengths)
        if self.task is Task.CLASSIFICATION:
            loss = F.cross_entropy(out, y)
            metric = ("accuracy", (out.argmax(-1) == y).float().mean())
        else:
            loss = F.mse_loss(out, y)
            metric = ("mae", F.l1_loss(out, y))
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, prog_bar=True,
                 batch_size=len(y), sync_dist=True)
        self.log(f"{stage}_{metric[0]}", metric[1], on_step=False, on_epoch=True,
                 prog_bar=stage != "train", batch_size=len(y), sync_dist=True)
        return loss

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        torch.manual_seed(hash((self.seed, self.current_epoch, batch_idx)) & 0xFFFF_FFFF)
        loss = self._step(batch, "train")
        finite = bool(torch.isfinite(loss))
        if not self.trainer.strategy.reduce_boolean_decision(finite, all=True):
            raise NonFiniteLossError(float(loss.detach()), self.current_epoch, batch_idx)
        return loss

    def validation_step(self, batch: Batch, batch_idx: int) -> None:
        self._step(batch, "val")

    def configure_optimizers(self) -> Any:
        optimizer = torch.optim.AdamW(self.parameters(), lr=self.lr,
                                      weight_decay=self.weight_decay)
        total = max(int(self.trainer.estimated_stepping_batches), 4)  # tiny runs: >= 1 step up
        schedule = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=self.lr, total_steps=total, pct_start=max(0.25, 2 / total))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": schedule,
                                                          "interval": "step"}}
