"""From a :class:`RunConfig` to data splits and a model: what a run trains on and with.

Tasks: ``classification`` (integer labels), ``regression`` (float targets (N,) or (N, k), e.g.
forecasting windows) and ``frames`` (targets are future frames (N, T_out, C, H, W)).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from .._checks import shorten
from ..data import (
    DATASETS,
    FILE_KINDS,
    FILE_SUFFIXES,
    ClipDataset,
    Samples,
    SequenceDataset,
    Standardization,
    Table,
    Task,
    fingerprint,
    load_dataset,
    moments,
    read_file,
    sample_keys,
)
from ..data.dataset import channel_blocks, split_indices
from ..models import registry
from ..models.registry import ModelSpec, legacy_model
from .clip_source import is_clip_source, load_clip_splits
from .config import ARRAYS, ConfigError, RunConfig, check_applicable
from .defaults import MIN_SELECTION, choose_defaults
from .marker import Source
from .recording_source import input_recordings, is_recording_source, recording_splits

__all__ = [
    "ModelSpec",
    "Prepared",
    "Splits",
    "build_model",
    "conform",
    "fitted_indices",
    "legacy_model",
    "load_splits",
    "loader_workers",
    "normalized",
    "prepare",
    "prepare_data",
    "read_sequences",
    "repeats",
    "seen_by_run",
]


@dataclass
class Prepared:
    """The splits of a run. ``val`` is None when ``val_split`` is 0; ``test`` is the official
    test split or ``--test-data`` (None for own data without it: the metrics then come from
    ``val``). ``config`` is the run's config with the settings chosen from the data filled in;
    ``choices`` says why, one line each; ``notes`` are what the user should know about the data
    (skipped files, imbalance, test samples that repeat training ones). ``sources`` say where
    ``--data``/``--test-data`` came from and what they held (a run keeps them in its marker);
    ``test_is`` says what metrics on ``test`` are: ``test``, or ``training``/``validation``
    when it holds only samples the run saw (:func:`repeats`). ``train_keys``: one key per
    sample of the training data as read (:func:`~timedist.data.sample_keys`; own data only,
    the run keeps them to recognize its samples later). Own videos are
    :class:`~timedist.data.ClipDataset` s."""

    train: Samples
    val: Samples | None
    test: Samples | None
    task: Task
    config: RunConfig
    choices: list[str]
    notes: list[str] = dataclasses.field(default_factory=list)
    sources: dict[str, Source] = dataclasses.field(default_factory=dict)
    test_is: str = "test"
    train_keys: list[bytes] | None = None

    @property
    def selects(self) -> bool:
        """Whether a network's best checkpoint is chosen on the validation split (else: the
        final one)."""
        return self.val is not None and len(self.val) >= MIN_SELECTION

    @property
    def streamed(self) -> bool:
        """Whether the data is read from disk by DataLoader workers (own videos)."""
        return isinstance(self.train, ClipDataset)

    @property
    def spec(self) -> ModelSpec:
        train = self.train
        outputs = (len(train.classes) if train.classes is not None
                   else int(train.targets[0].numel()))
        horizon = int(train.targets.shape[1]) if self.task is Task.FRAMES else 0
        return ModelSpec(self.task, train.step_shape, outputs, horizon, train.max_length)


def read_sequences(path: str | Path, *, require_targets: bool = True, flag: str = "",
                   label_column: str | None = None, skip_bad: bool = False) -> Table:
    """A user's sample file (.ts, .npz, a table: .csv/.tsv/.parquet, or an archive's
    .txt/.arff), or a labelled folder of recordings (its test/ split, else all of it;
    ``skip_bad`` as the run was trained), as a :class:`~timedist.data.Table`: its
    SequenceDataset, a table's label column (``label_column`` when given, else chosen:
    :func:`~timedist.data.read_table`) and what was chosen reading it (files skipped, for
    recordings). Errors name the file/line, and ``flag``, a setting that takes no built-in
    dataset, when given."""
    if str(path) == ARRAYS:  # a run's config.yaml written by an estimator's save()
        raise ConfigError(f"data {ARRAYS}: that run was fitted in Python on arrays; pass --data "
                          f"FILE (a {FILE_KINDS} file) to train on a file")
    if require_targets and is_recording_source(str(path)):  # its test/ split, or all of it
        data, _, notes = input_recordings(str(path), labelled=True, skip_bad=skip_bad)
        return Table(data, None, notes)
    path = Path(path)
    if not path.name.endswith(FILE_SUFFIXES):  # (inputs to predict are never built-in data)
        named = f"a built-in dataset ({', '.join(DATASETS)}) or " if (
            require_targets and not flag) else ""
        raise ConfigError(f"{flag + ' ' if flag else ''}{path}: expected {named}a file ending in "
                          f"{FILE_KINDS}")
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder; expected a {FILE_KINDS} file")
    if path.exists() and not path.is_file():
        raise ConfigError(f"{path}: not a regular file (a pipe, a device or a socket); expected "
                          f"a {FILE_KINDS} file")
    if not path.is_file():
        raise ConfigError(f"{path}: no such file")
    return read_file(path, require_targets=require_targets, label_column=label_column)


def conform(data: SequenceDataset, *, step_shape: tuple[int, ...] | list[int], task: Task,
            classes: list[str] | None, labelled: bool = True) -> SequenceDataset:
    """``data`` checked against what training saw: its step shape and, when ``labelled``, its
    task, with labels re-indexed to the training ``classes`` by name. Raises ConfigError."""
    step = tuple(data.sequences[0].shape[1:])
    if step != tuple(step_shape):
        raise ConfigError(f"{data.name}: expected steps of shape {tuple(step_shape)} like the "
                          f"training data; got {step}")
    if not labelled or classes is None:
        if labelled and data.task != task:
            raise ConfigError(f"{data.name}: expected {task} targets like the training data; "
                              f"got {data.task}")
        return SequenceDataset(data.sequences, data.targets, classes=classes, name=data.name)
    if data.classes is None:
        raise ConfigError(f"{data.name}: expected {task} targets like the training data; got "
                          f"{data.task}")
    used = [data.classes[i] for i in set(data.targets.tolist())]  # declared, unused: fine
    unknown = sorted(set(used) - set(classes))
    if unknown:
        raise ConfigError(f"{data.name}: expected labels among the training classes {classes};"
                          f" got {unknown}")
    index = torch.tensor([classes.index(c) if c in classes else -1 for c in data.classes])
    return SequenceDataset(data.sequences, index[data.targets], classes=classes, name=data.name)


def scaled_targets(targets: Tensor, scale: Standardization) -> Tensor:
    """Regression targets (N,) or (N, k) -> standardized (N, k) float32, like the models'
    outputs (B, outputs); computed in float64 from the raw values."""
    columns = targets.reshape(len(targets), -1).double()
    return ((columns - scale.mean.double()) / scale.std.double()).float()


def _scale_targets(train: SequenceDataset, *others: SequenceDataset | None
                   ) -> list[SequenceDataset | None]:
    """Standardize float targets with the training mean/std (float64, stored as
    ``target_scale``)."""
    mean, std = moments(train.targets.reshape(len(train.targets), -1), 0, ddof=1)
    scale = Standardization(mean, std)

    def scaled(d: SequenceDataset | None) -> SequenceDataset | None:
        if d is None:
            return None
        return SequenceDataset(d.sequences, scaled_targets(d.targets, scale), name=d.name,
                               standardization=d.standardization, target_scale=scale)

    return [scaled(d) for d in (train, *others)]


def _shuffled_in_time(dataset: SequenceDataset, seed: int) -> SequenceDataset:
    """The ablation: each sample's valid steps in a random (seeded, per sample) order."""
    g = torch.Generator().manual_seed(seed)
    sequences = [s[torch.randperm(len(s), generator=g)] for s in dataset.sequences]
    return SequenceDataset(sequences, dataset.targets, classes=dataset.classes,
                           name=dataset.name, standardization=dataset.standardization,
                           target_scale=dataset.target_scale)


def _subset_indices(total: int, size: int, seed: int) -> list[int]:
    """The indices (sorted) that ``--subset size`` keeps of ``total`` samples (all when 0)."""
    if not size or size >= total:
        return list(range(total))
    order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
    return sorted(order[:size].tolist())


def _subset(dataset: Samples, size: int, seed: int) -> Samples:
    kept = _subset_indices(len(dataset), size, seed)
    return dataset if len(kept) == len(dataset) else dataset.subset(kept)


def fitted_indices(config: RunConfig, total: int) -> tuple[list[int], list[int]]:
    """(the indices of the samples a run fitted on, those it held out for validation) among
    the ``total`` samples of its training data as read: ``config``'s (resolved) subset and
    validation split, exactly as :func:`prepare` makes them."""
    kept = _subset_indices(total, config.subset, config.seed)
    if not config.val_split:
        return kept, []
    rest, held = split_indices(len(kept), config.val_split, seed=config.seed)
    return [kept[i] for i in rest], [kept[i] for i in held]


def seen_by_run(config: RunConfig, trained: list[bytes], keys: list[bytes],
                held_too: Sequence[bytes] = ()) -> tuple[int, int]:
    """(how many of ``keys`` (one per sample, :func:`~timedist.data.sample_keys`) the run
    fitted on, how many it held out for validation), from the keys ``trained`` of its training
    data as read and those of a separate validation set (``held_too``)."""
    fit, held = fitted_indices(config, len(trained))
    fitted = {trained[i] for i in fit}
    validation = ({trained[i] for i in held} | set(held_too)) - fitted
    return sum(k in fitted for k in keys), sum(k in validation for k in keys)


def repeats(name: str, fitted: int, held: int, size: int) -> tuple[str | None, str | None]:
    """(what metrics on ``name``'s ``size`` samples are, when it holds only samples the run
    saw: ``training`` or ``validation``, else None; a note, or None when it holds none):
    ``fitted``/``held`` of them are samples the run fitted on / held out for validation."""
    if fitted == size:
        return "training", (f"{name} holds only the run's training samples (all {size}): these "
                            "metrics are training metrics, not a test")
    if held == size:
        return "validation", (f"{name} holds only the run's validation samples (all {size}: "
                              "held out from fitting, but they chose its checkpoint): these "
                              "metrics are validation metrics, not a test")
    if fitted + held == size:
        return "training", (f"{name} is the run's training data: {fitted} samples it fitted "
                            f"on and {held} validation samples that chose its checkpoint; "
                            "these metrics are training metrics, not a test")
    if not fitted + held:
        return None, None
    seen = [f"{fitted} are training samples of the run"] if fitted else []
    whose = "its" if fitted else "the run's"
    seen += [f"{held} are {whose} validation samples"] if held else []
    return None, (f"of the {size} samples of {name}, {' and '.join(seen)} (the same "
                  "values, to about 0.1%): the metrics flatter the model")


@dataclass
class Splits:
    """The data of a run as read: ``train``, ``test`` (None without), ``val`` (a folder's
    val/ split; None: split off by :func:`prepare`), ``config`` (a table's label column set),
    ``choices`` (what was chosen reading them) and ``notes`` (files skipped)."""

    train: SequenceDataset
    test: SequenceDataset | None
    config: RunConfig
    val: SequenceDataset | None = None
    choices: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)


def load_splits(config: RunConfig) -> Splits:
    """The splits of ``config.data``: a built-in dataset's official splits, a folder of
    recordings' (:func:`~timedist.runs.recording_source.recording_splits`), or a user's
    training file and optional ``--test-data`` file (labels re-indexed to the training
    classes); a table's label column is chosen from the training file, set in the config
    returned and said in the choices."""
    if config.data in DATASETS:
        if config.test_data:
            raise ConfigError(f"--test-data is for own files; {config.data} has its own test "
                              "split")
        return Splits(*load_dataset(config.data), config)
    if is_recording_source(config.data):
        if config.label_column is not None:
            raise ConfigError(f"--label-column {config.label_column}: {config.data} holds "
                              "recordings, labelled by their folders (or manifest); drop it")
        found = recording_splits(config)
        conformed = [None if split is None else conform(
            split, step_shape=found.train.step_shape, task=found.train.task,
            classes=found.train.classes) for split in (found.val, found.test)]
        if found.val is not None:
            config = dataclasses.replace(config, val_split=0.0)
            found.chose.append(f"validation on the val/ folder ({len(found.val)} recordings)")
        return Splits(found.train, conformed[1], config, conformed[0], found.chose, found.notes)
    read = read_sequences(config.data, label_column=config.label_column)
    if config.label_column is not None and read.label_column is None:
        raise ConfigError(f"--label-column {config.label_column}: {config.data} is not a table "
                          "with a header (.csv, .tsv, .parquet); drop it")
    train, choices = read.data, read.chose
    config = dataclasses.replace(config, label_column=read.label_column)
    test = None
    if config.test_data:
        tested = read_sequences(config.test_data, flag="--test-data",
                                label_column=config.label_column)
        test = conform(tested.data, step_shape=tuple(train.sequences[0].shape[1:]),
                       task=train.task, classes=train.classes)
        choices += tested.chose[:1]  # its layout; its labels are read as the training ones
    return Splits(train, test, config, choices=choices)


def normalized(dataset: SequenceDataset, how: str, scale: Standardization | None
               ) -> SequenceDataset:
    """Signals scaled as ``how`` says: ``channel`` (``scale``: per-channel statistics of the
    training split), ``series`` (each series z-normalized per channel over its own valid
    steps) or ``none``. Missing values become 0 in every case."""
    if how == "series":
        zscored = []
        for s in dataset.sequences:
            mean, std = moments(s, 0, keepdim=True)
            zscored.append((s.double() - mean) / std)
        dataset = SequenceDataset(zscored, dataset.targets, classes=dataset.classes,
                                  name=dataset.name, target_scale=dataset.target_scale)
    if how != "channel" or scale is None:  # identity, still turning missing values into 0
        scale = Standardization(torch.zeros(dataset.channels, dtype=torch.float64),
                                torch.ones(dataset.channels, dtype=torch.float64))
    dataset = dataset.with_standardization(scale)
    dataset.check_representable()
    return dataset


def prepare(config: RunConfig, train: Samples, test: Samples | None, *,
            scaled: bool = False, val: Samples | None = None, choices: list[str] | None = None,
            notes: list[str] | None = None) -> Prepared:
    """Choose the unset settings from ``train``, split off validation (unless ``val`` is
    given), fit the scaling on the training part of own files (``scaled``: the data comes
    scaled, as built-in datasets and clips, pixels in [0, 1], do). ``choices``/``notes``: lines
    already made by the caller."""
    train = _subset(train, config.subset, config.seed)
    if test is not None:
        test = _subset(test, config.subset, config.seed + 1)
    if config.shuffle_frames:
        assert isinstance(train, SequenceDataset) and not isinstance(test, ClipDataset)
        train = _shuffled_in_time(train, config.seed)
        if test is not None:
            test = _shuffled_in_time(test, config.seed + 1)
    config, chosen = choose_defaults(config, train)
    check_applicable(config, clips=isinstance(train, ClipDataset), task=train.task,
                     images=len(train.step_shape) == 3)
    choices = [*(choices or []), *chosen]
    if config.val_split:
        held = max(1, round(config.val_split * len(train)))  # as split_indices rounds
        if len(train) - held < 2:
            raise ConfigError(f"--val-split {config.val_split} of {len(train)} samples leaves "
                              f"{len(train) - held} to train on; expected at least 2")
        train, val = train.split(config.val_split, seed=config.seed)  # as fitted_indices
    if len(train) < 2:
        raise ConfigError(f"{train.name}: expected at least 2 training samples; got "
                          f"{len(train)}" + (" (--subset)" if config.subset else ""))
    if train.classes is not None and int(torch.unique(train.targets).numel()) < 2:
        only = train.classes[int(train.targets[0])]
        raise ConfigError(f"{train.name}: expected at least 2 classes among the training "
                          f"samples; got only {only!r}")
    notes = list(notes or [])
    if train.classes is not None:
        counts = torch.bincount(train.targets, minlength=len(train.classes)).tolist()
        unseen = [c for c, n in zip(train.classes, counts, strict=True) if n == 0]
        if unseen:
            notes.append(f"{len(unseen)} declared class{'es' * (len(unseen) > 1)} "
                         f"({shorten(unseen)}) {'have' if len(unseen) > 1 else 'has'} no "
                         "training samples: the model can never predict "
                         f"{'them' if len(unseen) > 1 else 'it'}")
    if isinstance(train, SequenceDataset) and len(train.step_shape) == 1:
        notes += _missing_channels(train)
        if config.normalize == "none":
            notes += _coarse_channels(train)
    if not scaled:
        assert isinstance(train, SequenceDataset)
        assert not isinstance(val, ClipDataset) and not isinstance(test, ClipDataset)
        train, val, test = _scale_own(config, train, val, test)
    return Prepared(train, val, test, train.task, config, choices, notes)


def _missing_channels(train: SequenceDataset) -> list[str]:
    """A note for channels without a single value in the training data (all NaN: zeros to
    the model); a ConfigError when no channel has one."""
    present = sum((~torch.isnan(s)).sum(0) for s in train.sequences)
    assert isinstance(present, Tensor)
    if int(present.sum()) == 0:
        raise ConfigError(f"{train.name}: expected values in the training data; every value is "
                          "missing (NaN)")
    empty = [int(c) for c in (present == 0).nonzero().flatten()]
    if not empty:
        return []
    return [f"{_channels(empty)} of {train.channels} "
            f"{'hold' if len(empty) > 1 else 'holds'} no value in the training data (all "
            "missing): the model sees zeros there"]


def _channels(indices: list[int]) -> str:
    """``channel 3`` or ``channels [1, 4, ...]``, as a note names them."""
    return f"channel {indices[0]}" if len(indices) == 1 else f"channels {shorten(indices, 60)}"


def _coarse_channels(train: SequenceDataset) -> list[str]:
    """A note for channels whose values sit so far from zero, for their spread, that float32
    (what the model computes in) keeps less than ~3 digits of their variation: without
    normalization (done in float64) the model sees them coarsely."""
    mean, std = moments(lambda: channel_blocks(train.sequences), 1)
    ratio = mean.abs() / std
    coarse = [int(c) for c in (ratio > 1e4).nonzero().flatten()]
    if not coarse:
        return []
    c = coarse[0]
    return [f"{_channels(coarse)}: values around "
            f"{float(mean[c]):.6g} vary by about {float(std[c]):.3g}; with --normalize none the "
            "float32 model keeps only a few digits of that variation (--normalize channel, the "
            "default, standardizes in float64 first)"]


def _scale_own(config: RunConfig, train: SequenceDataset, val: SequenceDataset | None,
               test: SequenceDataset | None
               ) -> tuple[SequenceDataset, SequenceDataset | None, SequenceDataset | None]:
    """Own files: signals normalized as ``config.normalize`` says (statistics of ``train``),
    regression targets standardized with the training targets' statistics."""
    if len(train.step_shape) == 1:  # signals (T, C)
        fitted = train.fit_standardization() if config.normalize == "channel" else None
        train = normalized(train, config.normalize, fitted)
        val, test = (normalized(d, config.normalize, fitted) if d is not None else None
                     for d in (val, test))
    if train.task is Task.REGRESSION:
        scaled_train, val, test = _scale_targets(train, val, test)
        assert scaled_train is not None
        train = scaled_train
    return train, val, test


def prepare_data(config: RunConfig) -> Prepared:
    """Load the data of ``config`` (a built-in dataset, a file, or own videos) and
    :func:`prepare` it, with where it came from (``sources``) and what the user should know
    about it: a local file or folder that a built-in dataset's name shadows, test samples that
    repeat training samples."""
    notes = []
    if config.data in DATASETS and Path(config.data).exists():
        notes.append(f"{config.data!r} is a built-in dataset, used here; a "
                     f"{'folder' if Path(config.data).is_dir() else 'file'} of that name is "
                     f"in this folder too: pass ./{config.data} to train on it")
    if is_clip_source(config.data):
        config, clips, held, tested, choices, clip_notes = load_clip_splits(config)
        prepared = prepare(config, clips, tested, scaled=True, val=held, choices=choices,
                           notes=[*notes, *clip_notes])
        raw: tuple[Samples, Samples | None] = (clips, tested)
    else:
        if is_clip_source(config.test_data):
            raise ConfigError(f"--test-data {config.test_data}: expected a test file "
                              f"({FILE_KINDS}) for {config.data} (folders of clips "
                              "test runs on clips)")
        splits = load_splits(config)
        config = splits.config
        prepared = prepare(config, splits.train, splits.test, scaled=config.data in DATASETS,
                           val=splits.val, notes=[*notes, *splits.notes],
                           choices=splits.choices)
        raw = (splits.train, splits.test)
    if config.data not in DATASETS:
        _describe_sources(prepared, *raw)
    if prepared.val is not None:  # which samples were held out (seed, val_split, subset)
        prepared.sources["validation"] = Source(f"--val-split {config.val_split}", None,
                                                fingerprint(prepared.val), len(prepared.val))
    return prepared


def _describe_sources(prepared: Prepared, train: Samples, test: Samples | None) -> None:
    """Fill ``prepared.sources`` (fingerprints of own data) and say when the test samples
    repeat training samples."""
    config = prepared.config
    keys = prepared.train_keys = sample_keys(train)
    prepared.sources["data"] = Source(config.data, None, fingerprint(train), len(train))
    if test is None:
        return
    if config.test_data:
        prepared.sources["test_data"] = Source(config.test_data, None, fingerprint(test),
                                               len(test))
    fitted, held = seen_by_run(config, keys, sample_keys(test),
                               sample_keys(prepared.val) if isinstance(prepared.val, ClipDataset)
                               else [])  # a val/ folder of clips; signals are scaled by now
    measures, note = repeats(config.test_data or "the test split", fitted, held, len(test))
    prepared.test_is = measures or "test"
    if note:
        prepared.notes.append(note)


def build_model(config: RunConfig, spec: ModelSpec) -> nn.Module:
    """The model named by ``config.model`` (or, unset, timedist 0.1's default) sized for
    ``spec`` (:func:`timedist.models.registry.build`). Raises ConfigError."""
    try:
        return registry.build(config.model, spec, config)
    except registry.ModelError as error:
        raise ConfigError(str(error)) from None


def loader_workers(config: RunConfig, dataset: Samples) -> int:
    """DataLoader processes for ``dataset``: clips are decoded by ``config.workers``; data in
    memory gains nothing from them."""
    return (config.workers or 0) if isinstance(dataset, ClipDataset) else 0
