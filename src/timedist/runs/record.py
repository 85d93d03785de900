"""A run's record: what ``preprocessing.json`` keeps besides the config, and how new data is
brought into the form the model was trained on.

The record holds the task, one step's shape, the outputs, the longest training sequence, the
class names in index order, the input normalization and its statistics, and the target scale.
``evaluate``, ``predict`` and the scikit-learn estimators apply it with :func:`apply_record`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._checks import shorten
from .._version import __version__
from ..data import SequenceDataset, Standardization, Task
from ..models.registry import ModelSpec, legacy_model
from .config import NORMALIZATIONS, ConfigError, RunConfig, identity
from .marker import MARKER, Marker, file_sha256
from .prepare import Prepared, build_model, conform, normalized, scaled_targets
from .rundir import CHECKPOINTS as CHECKPOINTS_NAME
from .rundir import CONFIG as CONFIG_NAME
from .rundir import LEGACY_SAMPLES, SAMPLES, CheckpointError, RunDir, RunSession, read_checkpoint
from .rundir import RECORD as RECORD_NAME

__all__ = [
    "RunRecord",
    "apply_record",
    "check_proven",
    "finished",
    "found_again",
    "load_best",
    "load_run",
    "make_record",
    "run_config_values",
    "run_fingerprint",
    "stored_run",
    "trained_samples",
    "write_record",
    "write_samples",
]




def _scale_json(scale: Standardization | None) -> dict[str, Any] | None:
    return None if scale is None else {"mean": scale.mean.double().tolist(),
                                       "std": scale.std.double().tolist()}


@dataclass(frozen=True)
class RunRecord:
    """What a run keeps besides its config (``preprocessing.json``), typed.

    ``spec`` (task, one step's shape, outputs, horizon, longest training sequence), the class
    names in index order (classification), the original labels and their numpy dtype (the
    estimators' ``classes_``: :func:`labels_json`), the input normalization and its
    statistics, the target scale (regression), MASE's denominator (built-in series), and its
    provenance (timedist, torch and Python versions, the command, when it was written).
    """

    spec: ModelSpec
    classes: list[str] | None
    normalize: str = "channel"
    standardization: Standardization | None = None
    target_scale: Standardization | None = None
    naive_scale: float | None = None
    labels: list[Any] | None = None
    provenance: dict[str, Any] | None = None
    label_dtype: str | None = None

    @property
    def task(self) -> Task:
        """The run's task kind (its spec's)."""
        return self.spec.task

    def with_labels(self, classes: np.ndarray | None) -> RunRecord:
        """This record keeping an estimator's ``classes_`` (N,) as they are: ValueError when
        JSON cannot give them back equal, of the same dtype."""
        if classes is None:
            return self
        labels, dtype = labels_json(classes)
        return dataclasses.replace(self, labels=labels, label_dtype=dtype)

    def original_labels(self) -> np.ndarray | None:
        """The labels an estimator was fitted with (N_classes,), in index order; the class
        names for a run written by ``timedist fit``; None for regression."""
        if self.labels is not None and self.label_dtype is not None:
            return labels_array(self.labels, self.label_dtype)
        labels = self.labels or self.classes  # older records: labels without their dtype
        return None if labels is None else np.asarray(labels)

    def to_json(self) -> str:
        """The record as ``preprocessing.json`` holds it."""
        return json.dumps({**dataclasses.asdict(self.spec), "steps": self.spec.length,
                           "classes": self.classes, "labels": self.labels,
                           "label_dtype": self.label_dtype,
                           "normalize": self.normalize,
                           "standardization": _scale_json(self.standardization),
                           "target_scale": _scale_json(self.target_scale),
                           "naive_scale": self.naive_scale,
                           "provenance": self.provenance}, indent=1)

    @classmethod
    def from_json(cls, text: str, where: str) -> RunRecord:
        """Parse and check a ``preprocessing.json``; a ConfigError names the key that is
        wrong. Records of timedist 0.1 (no ``length``, ``normalize`` or ``labels``) load."""
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
            raise ConfigError(f"{where}: not valid JSON: {error}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"{where}: expected a JSON object; got {type(raw).__name__}")

        def get(key: str, kinds: tuple[type, ...], default: Any = ...) -> Any:
            if key not in raw:
                if default is ...:
                    raise ConfigError(f"{where}: expected the key {key!r}; it is missing")
                return default
            value = raw[key]
            if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
                names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
                raise ConfigError(f"{where}: expected {key!r} of type {names}; got {value!r}")
            return value

        def ints(key: str, value: Any) -> tuple[int, ...]:
            if not (isinstance(value, list) and all(isinstance(v, int) and v >= 1
                                                    for v in value)):
                raise ConfigError(f"{where}: expected {key!r} as a list of positive integers;"
                                  f" got {value!r}")
            return tuple(value)

        def scale(key: str, size: int) -> Standardization | None:
            """mean and std of ``size`` numbers each (std > 0), as stored (float64)."""
            entry = get(key, (dict, type(None)), None)
            if entry is None:
                return None
            try:
                mean = torch.as_tensor(entry["mean"], dtype=torch.float64)
                std = torch.as_tensor(entry["std"], dtype=torch.float64)
            except (KeyError, TypeError, ValueError, RuntimeError):
                raise ConfigError(f"{where}: expected {key!r} as {{'mean': [...], 'std': "
                                  f"[...]}} of numbers; got {shorten(entry)}") from None
            if mean.numel() != size or std.numel() != size:
                raise ConfigError(f"{where}: expected {key!r} with {size} means and stds (one "
                                  f"per {'channel' if key == 'standardization' else 'output'});"
                                  f" got {mean.numel()} and {std.numel()}")
            if not (bool(torch.isfinite(mean).all()) and bool((std > 0).all())
                    and bool(torch.isfinite(std).all())):
                raise ConfigError(f"{where}: expected {key!r} with finite means and stds > 0; "
                                  f"got {shorten(entry)}")
            return Standardization(mean, std)

        stored = get("task", (str,))
        if stored not in [kind.value for kind in Task]:
            raise ConfigError(f"{where}: expected 'task' one of {', '.join(Task)}; got "
                              f"{stored!r}")
        task = Task(stored)
        steps = get("steps", (int,), 0)
        spec = ModelSpec(task, ints("step_shape", get("step_shape", (list,))),
                         get("num_outputs", (int,)), get("horizon", (int,), 0),
                         get("length", (int,), steps))
        classes = get("classes", (list, type(None)), None)
        if classes is not None and (not all(isinstance(c, str) and c.strip() for c in classes)
                                    or len(classes) != spec.num_outputs
                                    or len(set(classes)) != len(classes)):
            raise ConfigError(f"{where}: expected 'classes' as {spec.num_outputs} distinct "
                              f"names; got {shorten(classes)}")
        if (task is Task.CLASSIFICATION) != (classes is not None):
            wanted = "as a list" if classes is None else "null"
            raise ConfigError(f"{where}: expected 'classes' {wanted} for a {task} run; got "
                              f"{shorten(classes)}")
        labels = get("labels", (list, type(None)), None)
        if labels is not None and (classes is None or len(labels) != len(classes)):
            raise ConfigError(f"{where}: expected 'labels' as {len(classes or [])} values, one "
                              f"per class; got {shorten(labels)}")
        label_dtype = get("label_dtype", (str, type(None)), None)
        if label_dtype is not None:
            try:
                labels_array(labels or [], label_dtype)
            except (TypeError, ValueError, OverflowError) as error:
                raise ConfigError(f"{where}: expected 'labels' of numpy dtype {label_dtype!r}; "
                                  f"got {shorten(labels)} ({shorten(str(error))})") from None
        normalize = get("normalize", (str,), "channel")
        if normalize not in NORMALIZATIONS:
            raise ConfigError(f"{where}: expected 'normalize' one of {', '.join(NORMALIZATIONS)};"
                              f" got {shorten(normalize)}")
        naive = get("naive_scale", (float, int, type(None)), None)
        if naive is not None and not (math.isfinite(naive) and naive > 0):
            raise ConfigError(f"{where}: expected 'naive_scale' > 0 or null; got {naive}")
        if spec.length < 0 or spec.horizon < 0:
            raise ConfigError(f"{where}: expected 'length' and 'horizon' >= 0; got "
                              f"{spec.length}, {spec.horizon}")
        outputs = spec.num_outputs if task is Task.REGRESSION else 0
        return cls(spec, classes, normalize, scale("standardization", spec.step_shape[0]),
                   scale("target_scale", outputs) if outputs else None, naive, labels,
                   get("provenance", (dict, type(None)), None), label_dtype)


def labels_json(classes: np.ndarray) -> tuple[list[Any], str]:
    """(values JSON keeps, numpy dtype) of labels (N,): :func:`labels_array` gives back an
    equal array of the same dtype (dates and durations kept as their integer ticks), or a
    ValueError says they cannot be kept."""
    dtype = classes.dtype.str
    values = classes.view(np.int64).tolist() if classes.dtype.kind in "Mm" else classes.tolist()
    try:
        again = labels_array(json.loads(json.dumps(values)), dtype)
    except (TypeError, ValueError, OverflowError):
        again = None
    if again is None or again.dtype != classes.dtype or (
            [(type(a), a) for a in again.tolist()] != [(type(a), a) for a in classes.tolist()]
            if classes.dtype.kind == "O" else again.tobytes() != classes.tobytes()):
        raise ValueError(f"labels {shorten(classes.tolist())} of dtype {classes.dtype} cannot be "
                         "written so that they read back the same; expected numbers, text, "
                         "booleans, dates or durations")
    return values, dtype


def labels_array(values: list[Any], dtype: str) -> np.ndarray:
    """(N,) labels of ``dtype`` from what :func:`labels_json` wrote."""
    kind = np.dtype(dtype)
    if kind.kind in "Mm":
        return np.asarray(values, dtype=np.int64).view(kind)
    array = np.empty(len(values), dtype=kind)  # object labels stay one value per class
    array[:] = values
    return array


def make_record(prepared: Prepared, naive_scale: float | None = None) -> RunRecord:
    """The record of a prepared run (``naive_scale``: MASE's denominator, built-in series)."""
    train = prepared.train
    return RunRecord(prepared.spec, train.classes, prepared.config.normalize,
                     train.standardization, train.target_scale, naive_scale,
                     provenance={**_provenance(), "settings": identity(prepared.config)})


def _provenance() -> dict[str, Any]:
    """Where a run came from: versions, the command, when."""
    return {"timedist": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "command": " ".join(sys.argv),
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def write_record(session: RunSession, config: RunConfig, record: RunRecord) -> None:
    """``config.yaml`` and ``preprocessing.json`` into the held run (atomically); the record
    names the run's id, so a run whose marker was removed is never taken for one of an
    earlier timedist (which kept no marker)."""
    run_id = session.marker.id if session.marker is not None else None
    if run_id is not None:
        record = dataclasses.replace(record, provenance={**(record.provenance or {}),
                                                         "run": run_id})
    session.write("config.yaml", config.to_yaml())
    session.write("preprocessing.json", record.to_json())


def write_samples(session: RunSession, keys: list[bytes]) -> None:
    """Keep the keys of the training samples as read (N x 32 bytes,
    :func:`~timedist.data.sample_keys`) in the run, so ``evaluate --data`` recognizes them in
    any file later, wherever the training data went, saved again with less precision too (and
    for runs fitted on arrays)."""
    session.write(SAMPLES, b"".join(keys))


def trained_samples(run: RunDir, marker: Marker | None) -> tuple[list[bytes], bool] | None:
    """(the keys :func:`write_samples` kept (N,), whether they are an earlier timedist's exact
    keys (:func:`~timedist.data.exact_keys`, in ``training_samples.sha256``)), or None for a run
    without them (built-in data, an earlier timedist) or whose file is not the one timedist
    wrote."""
    for name, legacy in ((SAMPLES, False), (LEGACY_SAMPLES, True)):
        path = run.path / name
        if not path.is_file() or path.is_symlink():
            continue
        try:
            check_proven(run, marker, name)
            content = run.file(name).read_bytes()
        except (ConfigError, OSError):
            return None
        if len(content) % 32:
            return None
        return [content[i : i + 32] for i in range(0, len(content), 32)], legacy
    return None


def check_proven(run: RunDir, marker: Marker | None, name: str,
                 error: type[ConfigError] = ConfigError) -> None:
    """Refuse (``error`` naming the file) a run file that is read but not proven the one
    timedist wrote: with a marker of a run (an id), it must be listed with the SHA-256 of its
    bytes. (Runs of an earlier timedist have no marker: nothing to prove against.)"""
    if marker is None or marker.id is None:
        return
    path = run.file(name)
    written = marker.files.get(name)
    if written is None:
        raise error(f"{path}: the run's marker does not record it as written (it is not listed, "
                    "or was being written when the run stopped), so it cannot be proven the "
                    "file the run wrote: restore it, or train again")
    if file_sha256(path) != written:
        raise error(f"{path}: changed after timedist wrote it (it no longer matches the run's "
                    "marker); the model was trained with the original: restore it, or train "
                    "again")


def apply_record(data: SequenceDataset, record: RunRecord, *, labelled: bool
                 ) -> SequenceDataset:
    """``data`` as the model saw its training data: checked against the training step shape
    (and task and classes when ``labelled``; labels re-indexed by name), normalized with the
    stored statistics, regression targets scaled with the stored target scale."""
    data = conform(data, step_shape=record.spec.step_shape, task=record.task,
                   classes=record.classes, labelled=labelled)
    targets, target_scale = data.targets, record.target_scale
    if labelled and target_scale is not None:
        targets = scaled_targets(targets, target_scale)
    data = SequenceDataset(data.sequences, targets, classes=data.classes, name=data.name,
                           target_scale=target_scale)
    if data.sequences[0].dim() != 2:  # image sequences: as stored
        return data.with_standardization(record.standardization)
    return normalized(data, record.normalize, record.standardization)


def stored_run(run_dir: str | Path, *, unfinished: bool = False
               ) -> tuple[RunConfig, RunRecord]:
    """(config, record) of a run directory, checked: ``preprocessing.json`` as timedist wrote
    it (its SHA-256 is in the run's marker), the record consistent with itself (channels,
    classes, statistics), the run finished (``metrics.json`` written) unless ``unfinished``,
    and data paths found again beside a run moved together with its data. Runs of timedist
    0.1 get their model's name."""
    run = RunDir(Path(run_dir))
    if not run.is_run():
        raise ConfigError(run.why_not_run())
    marker = run.read_marker()
    try:
        config = RunConfig.load(run.config)
    except ConfigError as error:  # named by the file, as --config's errors are
        text = str(error)
        raise ConfigError(text if text.startswith(str(run.config)) else
                          f"{run.config}: {text}") from None
    if not run.record.is_file():
        raise ConfigError(run.absent(RECORD_NAME, "; the run directory is incomplete"))
    check_proven(run, marker, RECORD_NAME)
    record = RunRecord.from_json(run.record.read_text(encoding="utf-8"), str(run.record))
    written_for = (record.provenance or {}).get("run")
    if marker is None and written_for is not None:
        raise ConfigError(f"{run.path}: its {MARKER} is missing, though timedist wrote one for "
                          f"this run (id {shorten(written_for, 40)}): its files can no longer "
                          "be proven the ones timedist wrote; restore the marker, or train "
                          "again")
    if not unfinished and not finished(run, marker):
        why = (f"its marker records it as {marker.state!r}" if marker is not None and
               marker.state != "unknown" else "no metrics.json")
        raise ConfigError(f"{run.path}: the run has not finished (it was stopped, or is still "
                          f"training: {why}); pass --unfinished (unfinished=True in "
                          "Python) to use its best checkpoint so far, or continue it with "
                          f"timedist fit --resume {run.path}")
    _check_identity(run, config, record)
    config = found_again(run, config, marker)
    if config.model is None:  # a run of timedist 0.1, which stored no model name
        config = dataclasses.replace(config, model=legacy_model(record.spec))
    return config, record


def _check_identity(run: RunDir, config: RunConfig, record: RunRecord) -> None:
    """Refuse a run whose config.yaml was edited in a setting that makes the run what it is
    (the model, its size, how inputs are prepared): its weights and statistics are for the
    settings the record kept (older records kept only ``normalize``)."""
    kept = {"normalize": record.normalize, **(record.provenance or {}).get("settings", {})}
    for name, value in kept.items():
        now = getattr(config, name, value)
        if now != value and not (name == "model" and now is None):
            raise ConfigError(f"{run.config}: {name} is {shorten(now, 60)}, but the run was "
                              f"trained with {shorten(value, 60)} (its {RECORD_NAME}); restore "
                              "it (a run's config.yaml may be edited in its data paths, "
                              "training and placement settings; never in its model or how its "
                              "inputs are prepared)")


def finished(run: RunDir, marker: Marker | None) -> bool:
    """Whether the run completed: its marker says so, or (runs of earlier timedist) it has
    its final ``metrics.json``."""
    if marker is not None and marker.state != "unknown":
        return marker.state == "complete"
    return run.metrics_json.is_file()


def found_again(run: RunDir, config: RunConfig, marker: Marker | None) -> RunConfig:
    """``config`` with each data path that no longer exists replaced by the same file
    relative to the run folder, if it is there (the run and its data moved together)."""
    changes = _moved(run, marker, dataclasses.asdict(config))
    return dataclasses.replace(config, **changes) if changes else config  # type: ignore[arg-type]


def _moved(run: RunDir, marker: Marker | None, values: dict[str, Any]) -> dict[str, str]:
    """The data paths among ``values`` that no longer exist -> the same files relative to the
    run folder, where they are."""
    changes = {}
    for key, source in (marker.sources if marker is not None else {}).items():
        value = values.get(key)
        if not isinstance(value, str) or Path(value).exists() or source.relative is None:
            continue
        beside = Path(os.path.normpath(run.path / source.relative))
        if beside.exists():
            changes[key] = str(beside)
    return changes


def run_config_values(path: str | Path, values: dict[str, Any]) -> dict[str, Any]:
    """The settings read from ``path`` (``--config``); when it is a run's ``config.yaml``,
    with the data found again beside the run if it moved with it (as :func:`found_again`)."""
    run = RunDir(Path(path).parent)
    if Path(path).name != CONFIG_NAME or not run.file(MARKER).is_file():
        return values
    return {**values, **_moved(run, run.read_marker(), values)}


def run_fingerprint(state: dict[str, torch.Tensor], record: RunRecord) -> str:
    """What identifies a trained model with its preprocessing (32 hex digits): its weights
    (a checkpoint's ``state_dict``) and the record's task, shapes, classes and statistics.
    An exported file carries it, so a file of another run (or of this run before it was
    trained further) is recognised."""
    core = json.loads(record.to_json())
    core.pop("provenance", None)
    digest = hashlib.sha256(json.dumps(core, sort_keys=True).encode())
    for key in sorted(state):
        tensor = state[key]
        if isinstance(tensor, torch.Tensor):
            data = tensor.detach().cpu().contiguous()
            digest.update(f"{key}|{data.dtype}|{tuple(data.shape)}|".encode())
            digest.update(data.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:32]


def load_best(model: nn.Module, run_dir: str | Path) -> Path:
    """Load the run's best checkpoint into ``model`` (the checkpoint's ``model.`` prefix, which
    the training module adds, is dropped); one CheckpointError naming the file if it is missing,
    unreadable or does not fit the model."""
    run = RunDir(Path(run_dir))
    path = run.best
    if not path.is_file():
        raise CheckpointError(run.absent("checkpoints/best.ckpt", " (did the run finish an "
                                         "epoch?)"))
    state = read_checkpoint(path)["state_dict"]
    try:
        model.load_state_dict({k.removeprefix("model."): v for k, v in state.items()})
    except RuntimeError as error:
        first = str(error).strip().splitlines()
        raise CheckpointError(f"{path}: its weights do not fit the model that config.yaml "
                              f"describes ({first[1].strip() if len(first) > 1 else first[0]})"
                              ) from None
    run = RunDir(Path(run_dir))
    check_proven(run, run.read_marker(), f"{CHECKPOINTS_NAME}/best.ckpt", CheckpointError)
    return path


def load_run(run_dir: str | Path, *, unfinished: bool = True
             ) -> tuple[nn.Module, tuple[int, ...]]:
    """The model of a run with its best checkpoint's weights (eval mode), and the shape of a
    typical input: (2, T_max of training, *step). Needs no Lightning. Reads under the run's
    shared lock; ``unfinished=False`` refuses a run that has not finished."""
    with RunDir(Path(run_dir)).reading():
        config, record = stored_run(run_dir, unfinished=unfinished)
        model = build_model(config, record.spec)
        load_best(model, run_dir)
    return model.eval(), (2, max(record.spec.length, 1), *record.spec.step_shape)
