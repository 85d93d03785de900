"""Lightning plug-ins that make a run atomic, resumable bit for bit, and readable.

- :class:`AtomicCheckpointIO`: checkpoints are written beside their target and renamed over it,
  through the run's session (each recorded in the run's marker).
- :class:`RunCheckpoint`: Lightning's ModelCheckpoint, its state kept across a run folder
  that moved (Lightning drops the best score when the folder's path changed, so the first
  epoch after ``--resume`` would replace the best checkpoint whatever its loss).
- :class:`EpochShuffle`: the data order of epoch e depends only on (seed, e); with the
  per-step seeding of :class:`~timedist.train.SequenceTask` a run resumed after epoch k
  repeats epochs k+1.. exactly.
- :class:`ClipEpoch`: the random crops of own clips change with the epoch, drawn from
  (seed, epoch, clip) like the order.
- :class:`EpochLog`: one row per epoch in ``metrics.csv`` (kept across a resume) and one
  printed line per epoch.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import Sampler

from ..runs.metrics import metrics_text, read_metrics
from ..runs.rundir import RunSession

__all__ = ["AtomicCheckpointIO", "ClipEpoch", "EpochLog", "EpochShuffle", "RunCheckpoint"]


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint whose saved state is read as if the run folder had always been where
    it is now: the stored paths (best, last, k-th best) are moved to the current folder."""

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        before, now = state_dict.get("dirpath"), self.dirpath
        if before and now and before != now:
            def moved(path: Any) -> Any:
                if isinstance(path, str) and path.startswith(str(before)):
                    return str(now) + path[len(str(before)):]
                return path
            state_dict = {**state_dict, "dirpath": now,
                          "best_model_path": moved(state_dict.get("best_model_path")),
                          "kth_best_model_path": moved(state_dict.get("kth_best_model_path")),
                          "last_model_path": moved(state_dict.get("last_model_path")),
                          "best_k_models": {moved(k): v for k, v in
                                            state_dict.get("best_k_models", {}).items()}}
        super().load_state_dict(state_dict)


class AtomicCheckpointIO(TorchCheckpointIO):
    """``torch.save`` to a temporary file in the checkpoint's folder, fsync, rename, through
    the run's ``session``: a kill during the write leaves the previous checkpoint intact, and
    the run's marker records the file as timedist's. (DDP workers other than rank 0 never
    write; they have no session.)"""

    def __init__(self, session: RunSession | None) -> None:
        super().__init__()
        self.session = session

    def _relative(self, path: Any) -> Path:
        assert self.session is not None, "only the process holding the run writes checkpoints"
        relative = self.session.run.relative(Path(path))
        assert relative is not None, f"{path} is outside the run folder"
        return relative

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any,
                        storage_options: Any | None = None) -> None:
        assert self.session is not None
        self.session.write(self._relative(path), lambda handle: torch.save(checkpoint, handle))

    def remove_checkpoint(self, path: Any) -> None:
        if self.session is not None:
            self.session.remove(self._relative(path))


class EpochShuffle(Sampler[int]):
    """A random order of ``size`` indices drawn from (seed, epoch); Lightning calls
    ``set_epoch`` before each epoch. ``epoch``: where a resumed run starts (DataLoader
    workers draw the first indices when Lightning creates the loader, before ``set_epoch``)."""

    def __init__(self, size: int, seed: int, epoch: int = 0) -> None:
        self.size, self.seed, self.epoch = size, seed, epoch

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.size, generator=g).tolist())

    def __len__(self) -> int:
        return self.size


class ClipEpoch(pl.Callback):
    """Sets the training ClipDataset's ``epoch`` before each epoch's loader is created (its
    workers copy the dataset then), so each epoch sees new random crops."""

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        loader = trainer.train_dataloader
        if loader is not None and hasattr(loader.dataset, "epoch"):
            loader.dataset.epoch = trainer.current_epoch


class EpochLog(pl.Callback):
    """After each epoch's validation, append a row (epoch, metrics, lr, seconds) to the run's
    ``metrics.csv`` — rewritten atomically through ``session`` — and print it. Rows of epochs
    after the resumed one are dropped."""

    def __init__(self, session: RunSession | None, *, verbose: bool = True) -> None:
        self.session, self.verbose = session, verbose
        self.rows: list[dict[str, Any]] = []
        self.started = 0.0

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.session is not None:
            self.rows = [r for r in read_metrics(self.session.run.metrics_csv)
                         if int(r["epoch"]) < trainer.current_epoch]

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.started = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Runs after the epoch's validation: every metric of the epoch is known here.
        if not trainer.is_global_zero or self.session is None:
            return
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items()
                   if k.startswith(("train_", "val_"))}
        row: dict[str, Any] = {"epoch": trainer.current_epoch}
        row.update({k: f"{v:.6g}" for k, v in sorted(metrics.items())})
        row["lr"] = f"{trainer.optimizers[0].param_groups[0]['lr']:.6g}"
        row["seconds"] = f"{time.perf_counter() - self.started:.1f}"
        self.rows.append(row)
        self.session.write("metrics.csv", metrics_text(self.rows))
        if self.verbose:
            shown = "  ".join(f"{k} {float(v):.4g}" for k, v in row.items()
                              if k not in ("epoch", "lr", "seconds"))
            shown += f"  ({row['seconds']} s)"
            line = f"epoch {row['epoch'] + 1}/{trainer.max_epochs}  {shown}"
            bar = trainer.progress_bar_callback
            bar.print(line) if bar is not None else print(line, flush=True)  # type: ignore
