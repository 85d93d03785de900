"""From a :class:`RunConfig` to data splits and a model: what a run trains on and with.

Tasks: ``classification`` (integer labels), ``regression`` (float targets (N,) or (N, k), e.g.
forecasting windows) and ``frames`` (targets are future frames (N, T_out, C, H, W)).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from ..data import DATASETS, SequenceDataset, Standardization, load_dataset, load_npz, read_ts
from ..models import CNNLSTM, ConvLSTMForecaster, SequenceClassifier, SequenceRegressor
from ..models.cnn_lstm import frame_encoder, subsequence_encoder
from .config import MODELS, ConfigError, RunConfig

__all__ = ["ModelSpec", "Prepared", "build_model", "conform", "prepare_data", "read_sequences",
           "task_of"]

FILE_SUFFIXES = (".ts", ".ts.gz", ".npz")


@dataclass(frozen=True)
class ModelSpec:
    """What a model must fit: the task, one input step (C,) or (C, H, W), the outputs (classes
    or regression values) and, for frames, the forecast horizon. Stored in a run directory."""

    task: str
    step_shape: tuple[int, ...]
    num_outputs: int
    horizon: int = 0


@dataclass
class Prepared:
    """The splits of a run. ``val`` is None when ``val_split`` is 0; ``test`` is the official
    test split or ``--test-data`` (None for own data without it: the metrics then come from
    ``val``)."""

    train: SequenceDataset
    val: SequenceDataset | None
    test: SequenceDataset | None
    task: str

    @property
    def spec(self) -> ModelSpec:
        train = self.train
        outputs = (len(train.classes) if train.classes is not None
                   else int(train.targets[0].numel()))
        horizon = int(train.targets.shape[1]) if self.task == "frames" else 0
        return ModelSpec(self.task, tuple(train.sequences[0].shape[1:]), outputs, horizon)


def task_of(dataset: SequenceDataset) -> str:
    if dataset.classes is not None:
        return "classification"
    return "frames" if dataset.targets.dim() >= 4 else "regression"


def read_sequences(path: str | Path, *, require_targets: bool = True) -> SequenceDataset:
    """A user's .ts/.ts.gz or .npz file as a SequenceDataset (errors name the file/line)."""
    path = Path(path)
    if not path.name.endswith(FILE_SUFFIXES):
        raise ConfigError(f"{path.name}: expected a built-in dataset ({', '.join(DATASETS)}) "
                          f"or a file ending in {', '.join(FILE_SUFFIXES)}")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    if path.suffix == ".npz":
        return load_npz(path, require_targets=require_targets)
    return read_ts(path)


def conform(data: SequenceDataset, *, step_shape: tuple[int, ...] | list[int], task: str,
            classes: list[str] | None, labelled: bool = True) -> SequenceDataset:
    """``data`` checked against what training saw: its step shape and, when ``labelled``, its
    task, with labels re-indexed to the training ``classes`` by name. Raises ConfigError."""
    step = tuple(data.sequences[0].shape[1:])
    if step != tuple(step_shape):
        raise ConfigError(f"{data.name}: expected steps of shape {tuple(step_shape)} like the "
                          f"training data; got {step}")
    if not labelled or classes is None:
        if labelled and task_of(data) != task:
            raise ConfigError(f"{data.name}: expected {task} targets like the training data; "
                              f"got {task_of(data)}")
        return SequenceDataset(data.sequences, data.targets, classes=classes, name=data.name)
    if data.classes is None:
        raise ConfigError(f"{data.name}: expected {task} targets like the training data; got "
                          f"{task_of(data)}")
    unknown = sorted(set(data.classes) - set(classes))
    if unknown:
        raise ConfigError(f"{data.name}: expected labels among the training classes {classes};"
                          f" got {unknown}")
    index = torch.tensor([classes.index(c) for c in data.classes])
    return SequenceDataset(data.sequences, index[data.targets], classes=classes, name=data.name)


def _own_data(config: RunConfig) -> tuple[SequenceDataset, SequenceDataset | None]:
    train = read_sequences(config.data)
    test = read_sequences(config.test_data) if config.test_data else None
    if test is not None:
        test = conform(test, step_shape=tuple(train.sequences[0].shape[1:]),
                       task=task_of(train), classes=train.classes)
    return train, test


def _scale_targets(train: SequenceDataset, *others: SequenceDataset | None
                   ) -> list[SequenceDataset | None]:
    """Standardize float targets with the training mean/std (stored as ``target_scale``)."""
    mean, std = train.targets.mean(0), train.targets.std(0).clamp_min(1e-8)
    scale = Standardization(mean, std)

    def scaled(d: SequenceDataset | None) -> SequenceDataset | None:
        if d is None:
            return None
        return SequenceDataset(d.sequences, (d.targets - mean) / std, name=d.name,
                               standardization=d.standardization, target_scale=scale)

    return [scaled(d) for d in (train, *others)]


def _shuffled_in_time(dataset: SequenceDataset, seed: int) -> SequenceDataset:
    """The ablation: each sample's valid steps in a random (seeded, per sample) order."""
    g = torch.Generator().manual_seed(seed)
    sequences = [s[torch.randperm(len(s), generator=g)] for s in dataset.sequences]
    return SequenceDataset(sequences, dataset.targets, classes=dataset.classes,
                           name=dataset.name, standardization=dataset.standardization,
                           target_scale=dataset.target_scale)


def _subset(dataset: SequenceDataset, size: int, seed: int) -> SequenceDataset:
    if not size or size >= len(dataset):
        return dataset
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed))
    return dataset.subset(sorted(order[:size].tolist()))


def prepare_data(config: RunConfig) -> Prepared:
    """Load the data of ``config``; split off validation; fit scaling on the training part."""
    builtin = config.data in DATASETS
    if builtin:
        if config.test_data:
            raise ConfigError(f"--test-data is for own files; {config.data} has its own test "
                              "split")
        train, test = load_dataset(config.data)
        test_or_none: SequenceDataset | None = test
    else:
        train, test_or_none = _own_data(config)
    train = _subset(train, config.subset, config.seed)
    if test_or_none is not None:
        test_or_none = _subset(test_or_none, config.subset, config.seed + 1)
    if config.shuffle_frames:
        train = _shuffled_in_time(train, config.seed)
        if test_or_none is not None:
            test_or_none = _shuffled_in_time(test_or_none, config.seed + 1)
    val: SequenceDataset | None = None
    if config.val_split:
        train, val = train.split(config.val_split, seed=config.seed)
    if not builtin:
        task = task_of(train)
        if train.sequences[0].dim() == 2:  # signals (T, C): per-channel standardization
            scale = train.fit_standardization()
            train = train.with_standardization(scale)
            val = val.with_standardization(scale) if val is not None else None
            test_or_none = (test_or_none.with_standardization(scale)
                            if test_or_none is not None else None)
        if task == "regression":
            train, val, test_or_none = _scale_targets(train, val, test_or_none)  # type: ignore
    return Prepared(train, val, test_or_none, task_of(train))


def _default_model(spec: ModelSpec) -> str:
    if spec.task == "frames":
        return "conv-lstm-forecaster"
    return "cnn-lstm" if len(spec.step_shape) == 3 else "sequence"


def build_model(config: RunConfig, spec: ModelSpec) -> nn.Module:
    """The model named by ``config.model`` (or the task's default) sized for ``spec``."""
    name = config.model or _default_model(spec)
    step, outputs = spec.step_shape, spec.num_outputs
    rnn = dict(hidden_size=config.hidden_size, num_layers=config.num_layers,
               bidirectional=config.bidirectional, cell=config.cell, dropout=config.dropout)
    if spec.task == "frames" or name == "conv-lstm-forecaster":
        if spec.task != "frames" or name != "conv-lstm-forecaster":
            raise ConfigError(f"model {name!r} does not fit task {spec.task!r}: "
                              "conv-lstm-forecaster predicts frames from frames; frames "
                              f"targets need it (models: {', '.join(MODELS)})")
        return ConvLSTMForecaster(step[0], hidden=config.hidden_size, horizon=spec.horizon)
    if name == "sequence":
        if len(step) != 1:
            raise ConfigError(f"model 'sequence' expects steps (F,); got {step}: use cnn-lstm "
                              "for frames")
        if spec.task == "classification":
            return SequenceClassifier(step[0], outputs, **rnn)  # type: ignore[arg-type]
        return SequenceRegressor(step[0], outputs, relative=config.relative,
                                 **rnn)  # type: ignore[arg-type]
    if len(step) == 3:
        return CNNLSTM(frame_encoder(step[0], 128), 128, outputs, **rnn)  # type: ignore[arg-type]
    if len(step) == 1:
        return CNNLSTM(subsequence_encoder(step[0]), 64, outputs,
                       subsequences=config.subsequences, **rnn)  # type: ignore[arg-type]
    raise ConfigError(f"model 'cnn-lstm' expects steps (C,) or (C, H, W); got {step}")


def as_input(x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
    """Drop ``lengths`` when every sample is full length (the layers' fastest path)."""
    return x, (None if bool((lengths == x.shape[1]).all()) else lengths)
