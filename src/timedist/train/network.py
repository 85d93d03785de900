"""Networks trained on Lightning: the data loaders, the Trainer and its callbacks, and one
training run (the ``train`` extra). Imported only when a network is trained."""

from __future__ import annotations

import os
import signal
import sys
from datetime import timedelta
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import EarlyStopping
from torch.utils.data import DataLoader

from ..data import ClipDataset, pad_collate
from ..runs.config import RunConfig
from ..runs.console import note, quiet_libraries, say
from ..runs.device import resolve_device
from ..runs.errors import TrainingError
from ..runs.prepare import Prepared, loader_workers
from ..runs.rundir import RunDir, RunSession, read_checkpoint
from .callbacks import AtomicCheckpointIO, ClipEpoch, EpochLog, EpochShuffle, RunCheckpoint
from .convergence import Converged, window_steps
from .module import NonFiniteLossError, SequenceTask

__all__ = ["SequenceTask", "train_network"]


def _loaders(prepared: Prepared, config: RunConfig, first_epoch: int = 0
             ) -> tuple[DataLoader[Any], DataLoader[Any] | None]:
    world = config.devices * config.num_nodes
    per_device = config.batch_size // world
    workers = loader_workers(config, prepared.train)
    if isinstance(prepared.train, ClipDataset):  # the random crops of the first epoch run
        prepared.train.epoch = first_epoch
    if world == 1:  # our sampler: the order of epoch e depends on (seed, e) only
        train = DataLoader(prepared.train, batch_size=per_device, collate_fn=pad_collate,
                           sampler=EpochShuffle(len(prepared.train), config.seed, first_epoch),
                           num_workers=workers)
    else:  # Lightning swaps in a DistributedSampler (seeded, set_epoch per epoch)
        train = DataLoader(prepared.train, batch_size=per_device, collate_fn=pad_collate,
                           shuffle=True, num_workers=workers)
    val = (DataLoader(prepared.val, batch_size=max(per_device, 64), collate_fn=pad_collate,
                      num_workers=workers)
           if prepared.val is not None else None)
    return train, val


def _strategy(config: RunConfig) -> Any:
    """Lightning's strategy: for DDP on more than one process, with ``ddp_timeout`` for the
    rendezvous and every collective (Lightning's default waits 30 minutes, silently)."""
    world = config.devices * config.num_nodes
    if world == 1 or config.strategy not in ("auto", "ddp", "ddp_spawn"):
        return config.strategy
    from lightning.pytorch.strategies import DDPStrategy

    return DDPStrategy(timeout=timedelta(seconds=config.ddp_timeout),
                       start_method="spawn" if config.strategy == "ddp_spawn" else "popen")


def _trainer(config: RunConfig, run: RunDir, session: RunSession | None, *, has_val: bool,
             selects: bool, progress: bool, verbose: bool, extra: list[pl.Callback]
             ) -> pl.Trainer:
    monitor = "val_loss" if has_val else "train_loss"
    callbacks: list[pl.Callback] = [*extra,
        EpochLog(session, verbose=verbose),
        RunCheckpoint(dirpath=run.checkpoints, filename="best",
                        monitor="val_loss" if selects else None, mode="min", save_top_k=1,
                        save_last=True, auto_insert_metric_name=False,
                        enable_version_counter=False),
    ]
    if config.patience:
        callbacks.append(EarlyStopping(monitor=monitor, patience=config.patience))
    resolve_device(config.accelerator, config.devices)  # a clear error for a GPU that is not
    # there, or more processes than the machine has GPUs or cores
    return pl.Trainer(
        accelerator=config.accelerator, devices=config.devices, num_nodes=config.num_nodes,
        strategy=_strategy(config), max_epochs=config.epochs, callbacks=callbacks,
        plugins=[AtomicCheckpointIO(session)], logger=False, enable_model_summary=False,
        enable_progress_bar=progress, num_sanity_val_steps=0, default_root_dir=run.path,
        log_every_n_steps=1)


def train_network(task: SequenceTask, prepared: Prepared, run: RunDir,
                  session: RunSession | None, *, resume: bool = False, verbose: bool = False,
                  progress: bool | None = False, callbacks: list[pl.Callback] | None = None
                  ) -> None:
    """Train ``task`` with Lightning on ``prepared`` (checkpoints and metrics.csv written into
    ``run`` through ``session``, which DDP workers other than rank 0 do not have; each epoch's
    seconds are in metrics.csv)."""
    quiet_libraries()
    config = prepared.config
    first_epoch = int(read_checkpoint(run.last).get("epoch", -1)) + 1 if resume else 0
    if resume and first_epoch >= (config.epochs or 0):
        note(verbose, f"nothing left to train: the run has its {config.epochs} epochs (the "
              f"last checkpoint is of epoch {first_epoch}); it is tested again")
    train_loader, val_loader = _loaders(prepared, config, first_epoch)
    show = sys.stderr.isatty() if progress is None else progress
    extra = [*(callbacks or []), *([ClipEpoch()] if prepared.streamed else [])]
    converged = None
    if config.converge:
        per_epoch = len(train_loader)
        converged = Converged(window_steps((config.epochs or 1) * per_epoch, per_epoch))
        extra.append(converged)
    trainer = _trainer(config, run, session, has_val=val_loader is not None,
                       selects=prepared.selects, progress=show, verbose=verbose, extra=extra)
    world = config.devices * config.num_nodes
    if config.num_nodes > 1:
        say(verbose, f"ddp    waiting up to {config.ddp_timeout} s for the {world} processes "
             f"of --num-nodes {config.num_nodes} x --devices {config.devices} to join at "
             f"{os.environ.get('MASTER_ADDR', '127.0.0.1')}:"
             f"{os.environ.get('MASTER_PORT', '(MASTER_PORT unset)')}: start this command on "
             "every node with its NODE_RANK (--ddp-timeout to wait longer)")
    sigint = signal.getsignal(signal.SIGINT)
    try:
        trainer.fit(task, train_loader, val_loader,
                    ckpt_path=str(run.last) if resume else None, weights_only=True)
    except SystemExit:  # Lightning's answer to Ctrl-C: graceful shutdown, then exit(1)
        if not trainer.interrupted:
            raise
        raise KeyboardInterrupt(f"interrupted; continue with: timedist fit --resume {run.path}"
                                ) from None
    except NonFiniteLossError as error:
        last = run.last
        kept = (f"the last good checkpoint is {last} (epoch {error.epoch})" if last.is_file()
                else "no checkpoint was written (it diverged in the first epoch)")
        raise TrainingError(f"{error}; training stopped, {kept}. Try a lower --lr "
                            f"(now {config.lr})") from error
    except torch.distributed.DistError as error:
        if world == 1:
            raise
        raise TrainingError(f"DDP: not every process of --devices {config.devices} x "
                            f"--num-nodes {config.num_nodes} joined within --ddp-timeout "
                            f"{config.ddp_timeout} s ({' '.join(str(error).split())[:200]})"
                            ) from error
    finally:  # Lightning ignores SIGINT after a Ctrl-C; give it back to the caller
        if signal.getsignal(signal.SIGINT) is not sigint and sigint is not None:
            signal.signal(signal.SIGINT, sigint)
    stopper = trainer.early_stopping_callback
    if converged is not None and converged.reason is not None:
        say(verbose, f"stop   after epoch {trainer.current_epoch} of {config.epochs} "
                      f"({trainer.global_step} optimizer steps): converged, "
                      f"{converged.reason} (--no-converge runs every epoch)")
    elif stopper is not None and stopper.stopped_epoch and trainer.current_epoch < (
            config.epochs or 0):  # say why it ended before --epochs
        note(verbose, f"stopped early after epoch {trainer.current_epoch} of "
                       f"{config.epochs}: {stopper.monitor} did not improve for --patience "
                       f"{config.patience} epochs"
                       + ("" if val_loader is not None else " (no validation split: patience "
                          "watches the training loss)"))
