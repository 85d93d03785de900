"""``evaluate``: a finished run's best checkpoint tested on its test split or on data given,
into ``RUN_DIR/evaluation/``; and the checks that the run's data is there and is the data it
was trained on (``fit --resume`` makes them too)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .._checks import shorten
from ..data import DATASETS, ClipDataset, Samples, comparable, fingerprint
from .clip_source import evaluation_clips, is_clip_run, is_clip_source
from .config import ARRAYS, ConfigError, RunConfig
from .console import note as _note
from .console import quiet_libraries
from .marker import Marker
from .measure import RunResult, cautions, evaluate_model, name_by_data, report, restore
from .prepare import (
    Prepared,
    load_splits,
    loader_workers,
    prepare_data,
    read_sequences,
    repeats,
    seen_by_run,
)
from .record import RunRecord, apply_record, stored_run, trained_samples
from .recording_source import is_recording_source
from .rundir import EVALUATION_FILES, LEGACY_SAMPLES, SAMPLES, RunDir, RunSession

__all__ = ["check_data_there", "check_same_data", "evaluate"]


def evaluate(run_dir: str | Path, *, data: str | None = None, overwrite: bool = False,
             unfinished: bool = False, verbose: bool = True) -> RunResult:
    """Test the run's best checkpoint on its test split, or on ``data`` (a built-in dataset's
    test split, a labelled file, or for a run on clips a folder/manifest of labelled clips);
    writes ``evaluation.json`` and plots under ``RUN_DIR/evaluation/`` (replacing files there
    that timedist did not write only with ``overwrite``). The run's own data must be the data
    it was trained on (by fingerprint); ``unfinished`` allows a run that has not finished.
    ``evaluated_on`` says what the metrics are on: test, validation or training data."""
    quiet_libraries()
    run = RunDir(Path(run_dir))
    with run.session() as session:
        config, stored = stored_run(run.path, unfinished=unfinished)
        result = _evaluate_run(session, config, stored, data, overwrite, verbose)
    return result


def _evaluate_run(session: RunSession, config: RunConfig, stored: RunRecord, data: str | None,
                  overwrite: bool, verbose: bool) -> RunResult:
    run, marker = session.run, session.marker
    for name in EVALUATION_FILES:  # a file of the user's there: refused before any work
        session.check_writable(f"evaluation/{name}", overwrite=overwrite)
    config = dataclasses.replace(config, cache=None)  # readers write nowhere but the run
    clips = is_clip_run(config, stored.spec.step_shape)
    notes: list[str] = []
    dataset: Samples
    # The run's own split only without --data, or with its built-in dataset's name: a file
    # or folder given is the data to evaluate, even the run's own (the notes say what it is)
    if data is None or (data == config.data and data in DATASETS):
        if config.data == ARRAYS:
            raise ConfigError(f"{run.path} was fitted in Python on arrays, so it has no test "
                              "file; pass --data FILE (a labelled .ts/.npz file)")
        check_data_there(run, config, "put it back, edit the path in config.yaml, or pass "
                          "--data FILE to evaluate on data of your choice")
        prepared = prepare_data(config)
        check_same_data(marker, prepared, run.path, "evaluating would not test this run: "
                         "pass --data FILE to evaluate on data of your choice")
        if prepared.test is not None:
            dataset, evaluated_on = prepared.test, prepared.test_is
        elif prepared.val is not None:
            dataset, evaluated_on = prepared.val, "validation"
        else:
            dataset, evaluated_on = prepared.train, "training"
            notes.append("this run has no test file and no validation split: these metrics are"
                         " on the training data; pass --data FILE to evaluate on other data")
        if isinstance(dataset, ClipDataset):
            dataset = dataset.evaluation()
        naive = stored.naive_scale
    elif data in DATASETS:
        raise ConfigError(f"this run was trained on {config.data}; evaluate it on that or on a "
                          f"file of the same kind, not on {data}")
    elif clips != is_clip_source(data):
        kind = "a folder or .csv manifest of clips" if clips else "a labelled .ts/.npz file"
        raise ConfigError(f"--data {data}: this run was trained on {config.data}; expected "
                          f"{kind}")
    else:
        if clips:
            assert stored.classes is not None
            dataset, notes = evaluation_clips(data, config,
                                              stored.classes)
            raw: Samples = dataset
        else:
            read = read_sequences(data, require_targets=True,
                                  label_column=config.label_column, skip_bad=config.skip_bad)
            raw = read.data
            notes += read.chose if is_recording_source(data) else []  # recordings skipped
            dataset = apply_record(raw, stored, labelled=True)
        fitted, held, unknown = _seen_by_run(run, config, marker, raw)
        measures, note = repeats(data, fitted, held, len(raw))
        naive, evaluated_on = None, measures or data
        notes += [n for n in (unknown, note) if n]
    task = restore(run.path, config, stored.spec)
    result = evaluate_model(session, "evaluation/", stored.task, dataset, task, naive_scale=naive,
                       workers=loader_workers(config, dataset), overwrite=overwrite)
    name_by_data(result.metrics, evaluated_on)
    result.metrics["evaluated_on"] = evaluated_on
    notes += report(result, session, "evaluation/evaluation.json", verbose,
                     f"{evaluated_on} metrics ({dataset.name})", overwrite=overwrite)
    for note in notes + cautions(result.metrics, dataset, normalize=config.normalize):
        _note(verbose, note)
    return result


def _seen_by_run(run: RunDir, config: RunConfig, marker: Marker | None, samples: Samples
                 ) -> tuple[int, int, str | None]:
    """(how many of ``samples`` the run fitted on, how many it held out for validation, a
    note when that could not be told for a run that kept its samples' keys), by content: the
    training samples' keys the run kept, or (runs of built-in data, of an earlier timedist,
    a run whose keys are gone) its training data read again while it is what the run trained
    on ((0, 0) when that cannot be told)."""
    kept = trained_samples(run, marker)
    if kept is not None:
        from ..data import exact_keys, sample_keys

        kept_keys, legacy = kept  # an earlier timedist kept exact keys
        return (*seen_by_run(config, kept_keys, (exact_keys if legacy else sample_keys)(
            samples), _validation_folder(config, samples)), None)
    seen = _seen_by_reading(run, config, marker, samples)
    if seen is not None:
        return (*seen, None)
    listed = marker is not None and {SAMPLES, LEGACY_SAMPLES} & set(marker.files)
    return 0, 0, (f"{run.path / SAMPLES}: missing or changed since timedist wrote it, and the "
                  "training data is not where the run read it (or changed): whether this "
                  "file repeats training samples cannot be told") if listed else None


def _seen_by_reading(run: RunDir, config: RunConfig, marker: Marker | None, samples: Samples
                     ) -> tuple[int, int] | None:
    """:func:`_seen_by_run` from the run's training data read again (None when it is gone or
    no longer the data the run trained on)."""
    from ..data import clip_keys, sample_keys
    from ..data.clips import check_clips, find_clips

    keys = sample_keys(samples)
    trained = marker.sources.get("data") if marker is not None else None  # an earlier run
    whole = fingerprint(samples)
    if trained is not None and trained.fingerprint == whole:
        return seen_by_run(config, keys, keys)
    try:
        if isinstance(samples, ClipDataset):  # the clips of train/ (and val/): no decoding
            found = find_clips(config.data)
            clips = found.get("train") or found.get("all", [])
            if config.skip_bad:  # as the run saw them
                clips = check_clips(clips, skip_bad=True)[0]
            return seen_by_run(config, clip_keys(clips), keys,
                               _validation_folder(config, samples))
        train = load_splits(config).train
    except (OSError, ValueError):  # moved or unreadable: nothing can be said
        return None
    if trained is not None and comparable(trained.fingerprint, whole) and (
            trained.fingerprint != fingerprint(train)):
        return None  # the file at that path is no longer the training data
    return seen_by_run(config, sample_keys(train), keys)


def _validation_folder(config: RunConfig, samples: Samples) -> list[bytes]:
    """The keys of a clip run's val/ folder (held out, not fitted on); [] for other runs
    (whose ``samples`` are signals, not clips)."""
    from ..data import clip_keys
    from ..data.clips import find_clips

    if not isinstance(samples, ClipDataset):
        return []
    try:
        return clip_keys(find_clips(config.data).get("val", []))
    except (OSError, ValueError):
        return []


def check_data_there(run: RunDir, config: RunConfig, then: str) -> None:
    """Refuse, naming the run's setting, when its data or test data is not where the run
    (and a search beside a moved run) looked: ``then`` says what to do."""
    for key in ("data", "test_data"):
        value = getattr(config, key)
        if value and value not in DATASETS and value != ARRAYS and not Path(value).exists():
            raise ConfigError(f"{value}: no such file or folder; it is the run's {key} (in "
                              f"{run.config}): {then}")


def check_same_data(marker: Marker | None, prepared: Prepared, run: Path, doing: str) -> None:
    """Raise a ConfigError when the data ``prepared`` read are not the data the run was
    trained (or tested) on, by fingerprint: ``doing`` says what would go wrong."""
    if marker is None:
        return
    now = prepared.train.classes
    if marker.classes is not None and now is not None and marker.classes != now:
        raise ConfigError(f"{run}: the training data's classes changed since the run started "
                          f"(now {shorten(now, 120)}, then {shorten(marker.classes, 120)}); "
                          f"{doing}")
    for key, source in prepared.sources.items():
        before = marker.sources.get(key)
        if before is None or before.fingerprint == source.fingerprint or not comparable(
                before.fingerprint, source.fingerprint):
            continue
        size = (f"{source.samples} samples now, {before.samples} then"
                if source.samples != before.samples else "the same number of samples, other "
                                                         "values")
        if key == "validation":
            raise ConfigError(f"{run}: the validation split is not the one the run held out "
                              f"({size}; were seed, val_split or subset edited in config.yaml?)"
                              f"; {doing}")
        raise ConfigError(f"{run}: its {'training' if key == 'data' else 'test'} data "
                          f"{source.path} changed since the run was trained ({size}); {doing}")


