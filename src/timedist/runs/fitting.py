"""Fitting a run's model: the one flow that ``timedist fit`` and the estimators share.

:func:`build_task` builds the model the run's config names (the registry,
:mod:`timedist.models.registry`) with its task; :func:`train` fits it on the training split —
in closed form (rocket: one pass, on ``--devices`` x ``--num-nodes`` processes when asked) or by
gradient steps (a network: Lightning, the ``train`` extra, imported only then). What the two
front ends keep to themselves: the command line's run directory, resume and report; the
estimators' arrays in and attributes out.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ..data import SequenceDataset
from ..models.registry import closed_form
from .closed_form import fit_closed_form, save_checkpoint
from .config import RunConfig
from .device import resolve_device
from .distributed import ProcessGroupError, process_group
from .errors import TrainingError
from .metrics import metrics_text, read_metrics
from .prepare import Prepared, build_model, prepare_data
from .record import load_best
from .rundir import RunDir, RunSession
from .seed import seed_everything
from .task import TaskModel

if TYPE_CHECKING:
    import lightning.pytorch as pl

__all__ = ["build_task", "network", "train"]


def network() -> Any:
    """:mod:`timedist.train.network` (Lightning), or one ImportError naming the extra when
    Lightning is not installed (any other import failure is raised as it is)."""
    try:
        from ..train import network as module
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] != "lightning":
            raise
        raise ImportError(f"training a network needs the train extra: pip install "
                          f"'timedist[train]' ({error}); the rocket model (--model rocket) "
                          "does not") from None
    return module


def build_task(prepared: Prepared) -> TaskModel:
    """The model ``prepared.config`` names, sized for ``prepared.spec``, with its task: a
    closed-form model as it is, a network inside Lightning's ``SequenceTask`` (loss,
    optimizer, per-step seeding)."""
    config = prepared.config
    model = build_model(config, prepared.spec)
    if closed_form(config.model):
        return TaskModel(model, prepared.task)
    task: TaskModel = network().SequenceTask(model, prepared.task, lr=config.lr,
                                              weight_decay=config.weight_decay, seed=config.seed)
    return task


def train(task: TaskModel, prepared: Prepared, device: torch.device, run: RunDir | None = None,
          session: RunSession | None = None, *, resume: bool = False, verbose: bool = False,
          progress: bool | None = False, callbacks: Sequence[pl.Callback] = ()
          ) -> dict[str, Any]:
    """Fit ``task`` (from :func:`build_task`) on ``prepared.train``; returns the fit's summary
    row: for a closed-form model its ``metrics.csv`` row (leave-one-out metrics, penalties,
    ``seconds``), for a network ``{"seconds": ...}`` (its epochs' seconds, summed).

    ``run``/``session``: the run directory and the hold on it (``timedist fit``): metrics.csv
    and the checkpoints are written there; a DDP worker passes ``run`` alone (rank 0 writes,
    and the worker's summary is empty).
    Without a run (the estimators) a network trains in a scratch directory that is removed
    afterwards; its best weights are in ``task.model`` either way.
    """
    config = prepared.config
    if closed_form(config.model):
        assert isinstance(prepared.train, SequenceDataset)  # closed form takes signals
        with _closed_form_group(config, device):
            row = fit_closed_form(task, prepared.train, device, verbose=verbose)
        if session is not None:
            session.write("metrics.csv", metrics_text([row]))
            for name in ("checkpoints/best.ckpt", "checkpoints/last.ckpt"):
                save_checkpoint(task, session, name)
        return row
    if run is None:
        with tempfile.TemporaryDirectory(prefix="timedist-") as scratch:
            run = RunDir(Path(scratch))
            with run.session(create=True) as scratch_session:
                scratch_session.start({}, prepared.train.classes)
                return train(task, prepared, device, run, scratch_session, verbose=verbose,
                             progress=progress, callbacks=callbacks)
    network().train_network(task, prepared, run, session, resume=resume, verbose=verbose,
                            progress=progress, callbacks=list(callbacks))
    if session is None:  # a DDP worker: rank 0 holds the run's files
        return {}
    load_best(task.model, run.path)
    # The epochs' seconds, summed: metrics.csv keeps the rows of the runs a --resume continues.
    seconds = sum(float(r.get("seconds") or 0) for r in read_metrics(run.metrics_csv))
    return {"seconds": f"{seconds:.1f}"}


@contextlib.contextmanager
def _closed_form_group(config: RunConfig, device: torch.device) -> Iterator[None]:
    """Nothing for one process; for ``--devices`` x ``--num-nodes`` processes, a
    torch.distributed group whose other processes on this machine run
    :func:`_closed_form_share` (RocketModel.fit sums the statistics over the group)."""
    world = config.devices * config.num_nodes
    if world == 1:
        yield
        return
    try:
        with process_group(config.devices, config.num_nodes, _closed_form_share, (config,),
                           timeout=config.ddp_timeout,
                           backend="nccl" if device.type == "cuda" else "gloo"):
            yield
    except (ProcessGroupError, torch.distributed.DistError) as error:
        raise TrainingError(f"rocket on {world} processes: "
                            f"{' '.join(str(error).split())[:300]}") from None


def _closed_form_share(local: int, config: RunConfig) -> None:
    """One spawned process of a distributed rocket fit: the same data and model as local rank
    0 (``config`` holds every choice made), its share of the samples; it writes nothing."""
    seed_everything(config.seed)
    prepared = prepare_data(config)
    device = resolve_device(config.accelerator, config.devices)
    if device.type == "cuda":
        device = torch.device("cuda", local)
    task = TaskModel(build_model(config, prepared.spec), prepared.task)
    assert isinstance(prepared.train, SequenceDataset)
    fit_closed_form(task, prepared.train, device)
