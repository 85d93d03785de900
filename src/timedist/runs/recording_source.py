"""Folders of recordings as a run's data: ``--data FOLDER | manifest.csv`` whose items are
signal files (:mod:`timedist.data.recordings`), read into memory like a sample file.

The layouts are own videos' (:mod:`timedist.runs.clip_source`): ``<label>/<file>``, optionally
under ``train/``, ``val/``, ``test/``, or a manifest ``path,label``. ``train/`` (or the label
folders) trains, ``val/`` validates (``--val-split`` must then stay unset), ``test/`` or
``--test-data`` tests. Every file is read before training starts: a bad one stops the run
naming it, or with ``--skip-bad`` is listed and left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..data import DATASETS, FILE_SUFFIXES, SequenceDataset
from ..data.clips import Clip, find_clips, find_inputs, holds_recordings, is_manifest
from ..data.recordings import read_recordings
from .clip_source import folder_splits, skipped_note, test_items
from .config import ARRAYS, ConfigError, RunConfig

__all__ = ["Recordings", "input_recordings", "is_recording_run", "is_recording_source",
           "recording_splits"]

def is_recording_source(data: str | None) -> bool:
    """Whether ``data`` names a folder or manifest of recordings (not clips)."""
    return bool(data) and data not in DATASETS and holds_recordings(str(data))


def is_recording_run(config: RunConfig, step_shape: tuple[int, ...] | list[int]) -> bool:
    """Whether a stored run was trained on recordings: its data is a folder (or a manifest)
    and its steps are vectors, not images — so one ``.csv`` to predict is one recording, not a
    table of series. A manifest moved away reads as a table."""
    data = config.data
    if data in DATASETS or data == ARRAYS or len(step_shape) != 1:
        return False
    return not data.endswith(FILE_SUFFIXES) or is_manifest(data)


@dataclass
class Recordings:
    """The splits of a folder of recordings, what was recognised reading them (``chose``)
    and what the user should know (``notes``: files skipped)."""

    train: SequenceDataset
    val: SequenceDataset | None = None
    test: SequenceDataset | None = None
    chose: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _read(items: list[Clip], name: str, root: str, skip_bad: bool, *, labelled: bool = True
          ) -> tuple[SequenceDataset, list[str], list[str]]:
    """(the recordings of ``items``, what was recognised, notes)."""
    base = Path(root) if Path(root).is_dir() else Path(root).parent
    data, bad, said = read_recordings(items, name=name, labelled=labelled, skip_bad=skip_bad,
                                      root=base)
    return data, said, [skipped_note(bad, "recording")] if bad else []


def recording_splits(config: RunConfig) -> Recordings:
    """The train, val and test splits of ``config.data`` (a folder or manifest of
    recordings) and of ``--test-data`` (another one)."""
    found = folder_splits(config, recordings=True)
    train, chose, notes = _read(found.get("train") or found["all"], config.data, config.data,
                                config.skip_bad)
    splits = Recordings(train, chose=chose, notes=notes)
    if "val" in found:
        splits.val, _, notes = _read(found["val"], f"{config.data} (val)", config.data,
                                     config.skip_bad)
        splits.notes += notes
    source = config.test_data or (config.data if "test" in found else None)
    if source is not None:
        if not is_recording_source(source):
            raise ConfigError(f"--test-data {source}: expected a folder or manifest of "
                              f"recordings like {config.data}")
        splits.test, _, notes = _read(test_items(source, recordings=True),
                                      f"{source} (test)", source, config.skip_bad)
        splits.notes += notes
    return splits


def input_recordings(source: str, *, labelled: bool = False, skip_bad: bool = False
                     ) -> tuple[SequenceDataset, list[str], list[str]]:
    """(recordings of ``source``, their paths, notes): to predict (one recording file, or
    every one under a folder, no labels: a bad one is an error, as every input gets a
    prediction) or, ``labelled``, to evaluate (its test/ split, or its label folders; with
    ``skip_bad`` as the run was trained)."""
    if labelled:
        items = test_items(source, recordings=True)
    elif is_manifest(source):  # its recordings (their labels are not needed)
        items = find_clips(source, recordings=True)["all"]
    else:
        items = find_inputs(source, recordings=True)
    data, bad, _ = read_recordings(items, name=source, labelled=labelled,
                                   skip_bad=skip_bad and labelled,
                                   root=Path(source) if Path(source).is_dir() else None)
    skipped = {item.path for item, _ in bad}
    notes = [skipped_note(bad, "recording")] if bad else []
    return data, [str(i.path) for i in items if i.path not in skipped], notes
