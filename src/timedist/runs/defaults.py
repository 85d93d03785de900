"""Defaults chosen from the data: what ``timedist fit`` does with a user's own files.

Settings left unset (``None`` in :class:`~timedist.train.RunConfig`) are filled here from the
training data's shape, each with the reason, which ``fit`` prints and ``config.yaml`` keeps:

- **model**: signals (T, C) -> ``rocket`` (random convolution features + ridge heads; the
  most accurate and by far the cheapest choice measured on the development suite, see
  docs/results.md); image sequences -> ``cnn-lstm``; frame targets -> ``conv-lstm-forecaster``.
- **members** (rocket): 3, fewer for large data so a fit stays within about a minute of feature
  computation on 2 CPU cores; beyond one member the feature count shrinks instead.
- **val_split**: rocket chooses its penalty by exact leave-one-out, so it trains on everything
  (0). Networks hold out 10 % only when that leaves at least ``MIN_SELECTION`` samples to pick a
  checkpoint on; otherwise they train on everything for a fixed budget and keep the final
  weights (a checkpoint picked on a handful of samples is mostly noise).
- **epochs**: networks train for a budget of ``STEPS`` optimizer steps (``--steps``), so a
  small file gets as many updates as a large one; the epochs follow from it.
- **converge**: a run on that budget stops once training has converged (the rule in
  :mod:`timedist.train.convergence`); with ``--epochs`` it runs them all unless ``--converge``.

Explicit values (flags, a config file, a dataset's defaults) are never changed.
"""

from __future__ import annotations

import dataclasses
import math

from ..data import Samples, Task
from ..models.registry import closed_form
from ..models.rocket import KEEP
from .config import ConfigError, RunConfig, check_placement

__all__ = ["MIN_SELECTION", "STEPS", "choose_defaults", "rocket_size"]

MIN_SELECTION = 100  # validation samples needed before a checkpoint is chosen on them
STEPS = 1500  # optimizer steps for networks when neither --epochs nor --steps is given
# Rocket's features cost ~4-8 us per member per training sample per step on 2 CPU cores (fused
# kernels, docs/benchmarks.md); WORK samples x steps keep one member's features within ~10 s
# (the ridge head's leave-one-out grows with the samples on top of that).
WORK = 1_500_000
MAX_MEMBERS = 3


def rocket_size(samples: int, steps: int, num_features: int, channels: int = 1
                ) -> tuple[int, int]:
    """(members, num_features) for ``samples`` training series of up to ``steps`` steps and
    ``channels`` channels (a member costs ~1.5x at 100 channels, ~2.5x at 400).

    >>> rocket_size(50, 150, 10_000), rocket_size(1_000, 1_000, 10_000)
    ((3, 10000), (1, 10000))
    >>> rocket_size(3_000, 1_500, 10_000), rocket_size(267, 144, 10_000, channels=963)
    ((1, 3333), (3, 10000))
    """
    work = max(int(samples * steps * (1 + (channels - 1) / 200)), 1)
    members = max(1, min(MAX_MEMBERS, WORK // work))
    if work > WORK:
        num_features = max(2_000, int(num_features * WORK / work))
    return members, num_features


def _signal_model(train: Samples) -> tuple[str, str]:
    step = train.step_shape
    if train.task is Task.FRAMES:
        return "conv-lstm-forecaster", "frame targets"
    if len(step) == 3:
        return "cnn-lstm", f"image sequences, one step {step}"
    return "rocket", (f"signals of {step[0]} channel{'s' * (step[0] > 1)}: random "
                      "convolution features + ridge")


def choose_defaults(config: RunConfig, train: Samples) -> tuple[RunConfig, list[str]]:
    """``config`` with every unset (None) setting chosen for ``train``, and one line per
    choice saying why.

    >>> import torch
    >>> from timedist.data import SequenceDataset
    >>> data = SequenceDataset([torch.randn(150, 1)] * 50, torch.arange(50) % 2, classes=["a", "b"])
    >>> config, why = choose_defaults(RunConfig(data="mine.ts"), data)
    >>> config.model, config.members, config.val_split
    ('rocket', 3, 0.0)
    """
    changes: dict[str, object] = {}
    reasons: list[str] = []
    n, steps = len(train), train.max_length
    model = config.model
    if model is None:
        model, why = _signal_model(train)
        changes["model"] = model
        reasons.append(f"model {model} ({why})")
    check_placement(config, model)  # the model is known now
    if closed_form(model):
        if config.val_split is None:
            changes["val_split"] = 0.0
            which = f"all {n}" if n <= KEEP else f"{KEEP:,} of the {n:,}"
            reasons.append(f"no validation split (the ridge penalty is chosen by leave-one-out "
                           f"on {which} samples)")
        if config.members is None:
            channels = train.step_shape[0] if len(train) else 1
            members, features = rocket_size(n, steps, config.num_features, channels)
            changes["members"] = members
            why = f"{n} samples x {steps} steps" + (f" x {channels} channels"
                                                     if channels > 1 else "")
            if features != config.num_features:
                changes["num_features"] = features
                why += f"; {features} features per member to bound the time"
            reasons.append(f"{members} ensemble member{'s' * (members > 1)} ({why})")
        return dataclasses.replace(config, **changes), reasons  # type: ignore[arg-type]
    val_split = config.val_split
    if val_split is None:
        val_split = 0.1 if round(0.1 * n) >= MIN_SELECTION else 0.0
        changes["val_split"] = val_split
        reasons.append(f"validation split {val_split}" + (
            f" ({round(0.1 * n)} samples choose the best checkpoint)" if val_split else
            f" ({n} samples: too few to choose a checkpoint on; the final weights are kept)"))
    per_epoch = max(1, math.ceil(round(n * (1 - val_split)) / config.batch_size))
    if config.epochs is not None and config.steps is not None and (
            max(1, math.ceil(config.steps / per_epoch)) != config.epochs):
        raise ConfigError(f"--steps {config.steps} and --epochs {config.epochs}: expected one "
                          f"of them (--epochs sets the length: {config.epochs} epochs are "
                          f"{config.epochs * per_epoch} steps of batch {config.batch_size} "
                          "here; --steps would be ignored): give one (either one, given on "
                          "the command line, replaces the other from a config file)")
    if config.epochs is None:
        converge = config.converge is not False
        if config.converge is None:
            changes["converge"] = True
        budget = config.steps or STEPS
        changes["epochs"] = max(1, math.ceil(budget / per_epoch))
        changes["steps"] = budget
        reasons.append(f"{'at most ' * converge}{changes['epochs']} epochs ({budget} optimizer "
                       f"steps of batch {config.batch_size}, {per_epoch} per epoch"
                       + ("; stops once training has converged, --no-converge runs them all)"
                          if converge else ")"))
    return dataclasses.replace(config, **changes), reasons  # type: ignore[arg-type]
