"""Own videos as a run's data: ``--data FOLDER | manifest.csv`` to the splits a run trains on.

A folder of ``<label>/<clip>`` (optionally under ``train/``, ``val/``, ``test/``) or a CSV
manifest becomes :class:`~timedist.data.ClipDataset` s streamed from disk by DataLoader
workers: every clip is opened before training starts (a bad one stops the run naming it, or
with ``--skip-bad`` is listed and left out), labels are the sorted training labels (stored in
the run), and settings left unset are chosen from the clips, each with its reason:

- **size**: the frames' shorter side, at most ``MAX_SIZE`` (64: a CNN-LSTM on 2 CPU cores
  trains on 64x64 x 16-frame clips at a usable pace; ``--size`` for more).
- **workers**: the CPU cores, at most 4 (decoding is the loader's work; measured in
  docs/benchmarks.md).
- **validation**: the ``val/`` folder when there is one (then ``--val-split`` must stay
  unset), else the usual rule of :mod:`timedist.runs.defaults`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from ..data import CLIP_SIZE, DATASETS, FILE_SUFFIXES, SequenceDataset, pad_collate
from ..data.clips import (
    Clip,
    ClipDataset,
    ClipError,
    check_clips,
    class_counts,
    find_clips,
    find_inputs,
    frame_size,
    holds_recordings,
    imbalance,
    is_manifest,
)
from .config import ARRAYS, ConfigError, RunConfig

__all__ = [
    "MAX_SIZE",
    "clip_dataset",
    "evaluation_clips",
    "folder_splits",
    "input_clips",
    "is_clip_run",
    "is_clip_source",
    "load_clip_splits",
    "skipped_note",
    "test_items",
    "thumbnails",
]

MAX_SIZE = CLIP_SIZE  # the default frame side at most (pixels)
MAX_WORKERS = 4
SHOWN = 5  # bad clips named in the --skip-bad warning


def is_clip_source(data: str | None) -> bool:
    """Whether ``data`` (``--data``/``--test-data``) names own videos: a folder or a .csv
    manifest (:func:`~timedist.data.clips.is_manifest`; not a built-in dataset, not a sample
    file, nor a folder named like one)."""
    if not data or data in DATASETS:
        return False
    path = Path(data)
    if path.suffix.lower() == ".csv" and path.is_file():
        return is_manifest(path) and not holds_recordings(path)
    return not data.endswith(FILE_SUFFIXES) and path.is_dir() and not holds_recordings(path)


def is_clip_run(config: RunConfig, step_shape: tuple[int, ...] | list[int]) -> bool:
    """Whether a stored run was trained on own videos: its data is neither a built-in
    dataset, nor a sample file, nor arrays — decided from the run alone (its config and the
    step shape it stored), so a run moved away from its clips (or to another machine) still
    knows what it is: clips' steps are images (C, H, W), unlike a table's or a folder of
    recordings' (C,)."""
    data = config.data
    if data in DATASETS or data == ARRAYS or len(step_shape) != 3:  # recordings: (C,)
        return False
    return data.lower().endswith(".csv") or not data.endswith(FILE_SUFFIXES)


def skipped_note(bad: list[tuple[Clip, str]], noun: str) -> str:
    """The warning that lists the clips (or recordings: ``noun``) ``--skip-bad`` left out."""
    listed = "; ".join(reason for _, reason in bad[:SHOWN])
    more = f"; and {len(bad) - SHOWN} more" if len(bad) > SHOWN else ""
    return (f"skipped {len(bad)} unreadable {noun}{'s' * (len(bad) > 1)} (--skip-bad): "
            f"{listed}{more}")


def _checked(clips: list[Clip], config: RunConfig, notes: list[str]) -> list[Clip]:
    good, bad = check_clips(clips, skip_bad=config.skip_bad)
    if bad:
        notes.append(skipped_note(bad, "clip"))
    if not good:
        raise ClipError(f"{config.data}: expected readable clips; all {len(clips)} are bad")
    return good


def clip_dataset(clips: list[Clip], config: RunConfig, classes: list[str] | None, *,
                 train: bool = False, labelled: bool = True, name: str = "clips"
                 ) -> ClipDataset:
    """A ClipDataset with the run's clip settings (``config.size`` must be resolved)."""
    assert config.size is not None
    return ClipDataset(clips, config.frames, config.size, classes=classes, train=train,
                       grayscale=config.grayscale, fps=config.fps, cache=config.cache,
                       seed=config.seed, labelled=labelled, name=name)


def test_items(source: str, *, recordings: bool = False) -> list[Clip]:
    """The clips (or recordings) of ``source`` to test on: its test/ split, or its label
    folders."""
    found = find_clips(source, recordings=recordings)
    clips = found.get("test") or found.get("all")
    if clips is None:
        raise ClipError(f"{source}: has {'/, '.join(found)}/ but no test/ folder; expected "
                        "test/ or label folders")
    return clips


def folder_splits(config: RunConfig, *, recordings: bool = False) -> dict[str, list[Clip]]:
    """The clips (or recordings) of ``config.data`` by split (:func:`find_clips`), checked:
    train/ beside val/ or test/, and no ``--val-split`` beside a val/ folder."""
    found = find_clips(config.data, recordings=recordings)
    if "all" not in found and "train" not in found:
        raise ClipError(f"{config.data}: has {'/, '.join(found)}/ but no train/ folder; "
                        "expected train/ beside them")
    if "val" in found and config.val_split:
        raise ConfigError(f"--val-split {config.val_split}: {config.data} has a val/ folder; "
                          "drop one of them")
    return found


def load_clip_splits(config: RunConfig) -> tuple[RunConfig, ClipDataset, ClipDataset | None,
                                                 ClipDataset | None, list[str], list[str]]:
    """(config with the clip settings chosen, train, val, test, choices, notes) of
    ``config.data``; every clip is checked first (ClipError names a bad one)."""
    if config.shuffle_frames:
        raise ConfigError("--shuffle-frames is for data held in memory (.ts/.npz); own videos "
                          "cannot use it")
    found = folder_splits(config)
    notes: list[str] = []
    choices: list[str] = []
    train_clips = _checked(found.get("train") or found["all"], config, notes)
    val_clips = _checked(found["val"], config, notes) if "val" in found else None
    test_source = config.test_data or (config.data if "test" in found else None)
    test_clips = _checked(test_items(test_source), config, notes) if test_source else None
    changes: dict[str, object] = {}
    if config.size is None:
        height, width = frame_size(train_clips[0])
        changes["size"] = min(height, width, MAX_SIZE)
        choices.append(f"frame size {changes['size']} (the first clip is {width}x{height}"
                       + (f"; its shorter side is resized to {MAX_SIZE})" if min(height, width)
                          > MAX_SIZE else ")"))
    if config.workers is None:
        changes["workers"] = min(os.cpu_count() or 1, MAX_WORKERS)
        choices.append(f"{changes['workers']} loader processes (the CPU cores, at most "
                       f"{MAX_WORKERS})")
    if val_clips is not None:
        changes["val_split"] = 0.0
        choices.append(f"validation on the val/ folder ({len(val_clips)} clips)")
    config = dataclasses.replace(config, **changes)  # type: ignore[arg-type]
    counts = class_counts(train_clips)
    warning = imbalance(counts)
    if warning:
        notes.append(warning + "; the confusion matrix shows what each class gets")
    classes = sorted(counts)
    train = clip_dataset(train_clips, config, classes, train=True, name=str(config.data))
    val = (clip_dataset(val_clips, config, classes, name=f"{config.data} (val)")
           if val_clips is not None else None)
    test = (clip_dataset(test_clips, config, classes, name=f"{test_source} (test)")
            if test_clips is not None else None)
    return config, train, val, test, choices, notes


def evaluation_clips(source: str, config: RunConfig, classes: list[str]
                     ) -> tuple[ClipDataset, list[str]]:
    """Labelled clips of ``source`` (its test/ split, else all) to evaluate a clip run on, and
    notes (clips skipped with the run's ``--skip-bad``); labels must be among the training
    ``classes``."""
    notes: list[str] = []
    clips = _checked(test_items(source), config, notes)
    return clip_dataset(clips, config, classes, name=source), notes


def input_clips(source: str, config: RunConfig, classes: list[str]) -> ClipDataset:
    """Clips of ``source`` to predict (a video, a frame folder or a folder of them; labels not
    needed), checked first: every one gets a prediction, so a bad one is an error."""
    clips, _ = check_clips(find_inputs(source))
    return clip_dataset(clips, config, classes, labelled=False, name=source)


def thumbnails(dataset: ClipDataset | SequenceDataset, side: int = 8, workers: int = 0,
               batch_size: int = 64) -> SequenceDataset:
    """Each clip as evaluation samples it, shrunk to ``side`` x ``side`` pixels: a
    SequenceDataset of (T_i, C, side, side) for the 1-NN baseline. Reads every clip once."""
    if isinstance(dataset, ClipDataset):
        dataset = dataset.evaluation()
    loader = DataLoader(dataset, batch_size=batch_size, collate_fn=pad_collate,
                        num_workers=workers)
    small: list[torch.Tensor] = []
    for x, lengths, _ in loader:
        shrunk = torch.nn.functional.adaptive_avg_pool2d(x.flatten(0, 1), side)
        shrunk = shrunk.view(*x.shape[:3], side, side)
        small.extend(s[:n] for s, n in zip(shrunk, lengths.tolist(), strict=True))
    return SequenceDataset(small, dataset.targets, classes=dataset.classes, name=dataset.name)
