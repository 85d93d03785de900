"""A run directory: its layout (one place for every path), what timedist writes there, and
its lock.

The layout users' scripts read (docs/training.md)::

    config.yaml  preprocessing.json  metrics.csv  metrics.json  <plots>.png
    checkpoints/best.ckpt  checkpoints/last.ckpt  evaluation/  .timedist.lock
    model.onnx  model-step.onnx  model.pt2  model-step.pt2   (timedist export)

A run is complete when ``metrics.json`` exists: ``fit`` writes it last. ``--overwrite``
removes only the files listed here (and the temporary files of their atomic writes); any
other file in the folder makes it refuse, naming the file. The lock is an advisory
``flock`` on ``.timedist.lock``, which holds the holder's pid, host and command: the operating
system releases it when the process ends, however it ends.
"""

from __future__ import annotations

import json
import os
import pickle
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch

from .config import ConfigError

__all__ = ["CheckpointError", "RunDir", "RunLockedError", "read_checkpoint"]

CONFIG, RECORD = "config.yaml", "preprocessing.json"
METRICS_CSV, METRICS_JSON = "metrics.csv", "metrics.json"
CHECKPOINTS, EVALUATION, LOCK = "checkpoints", "evaluation", ".timedist.lock"
CHECKPOINT_FILES = ("best.ckpt", "last.ckpt")
PLOTS = ("learning_curves.png", "confusion_matrix.png", "examples.png", "predicted_vs_true.png",
         "forecast.png")
EXPORTS = tuple(f"{name}.{fmt}" for name in ("model", "model-step") for fmt in ("onnx", "pt2"))
_TOP = (CONFIG, RECORD, METRICS_CSV, METRICS_JSON, LOCK, *PLOTS, *EXPORTS)
_EVALUATION = ("evaluation.json", *(p for p in PLOTS if p != "learning_curves.png"))


class RunLockedError(ConfigError):
    """Another process holds the run directory."""


class CheckpointError(ConfigError):
    """A checkpoint that cannot be read, or that does not fit its run."""


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's contents, loaded with ``weights_only=True`` (tensors and plain data only:
    loading never runs code from the file). A missing, truncated, foreign or malicious file is a
    :class:`CheckpointError` naming it."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (EOFError, OSError, RuntimeError, pickle.UnpicklingError, ValueError,
            AttributeError, ImportError) as error:
        reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else "empty"
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(error).__name__}: "
                              f"{reason}); it may have been cut short by a kill or a full disk, "
                              "or not come from timedist") from None
    if not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict):
        raise CheckpointError(f"{path}: expected a checkpoint holding a state_dict; got "
                              f"{type(state).__name__}")
    return state


def _written_name(name: str, names: tuple[str, ...]) -> bool:
    """``name`` is one of ``names``, or the temporary file of an atomic write of one
    (``.<name>.<random>.tmp``, see ``timedist/_atomic.py``)."""
    if name in names:
        return True
    return name.startswith(".") and name.endswith(".tmp") and any(
        name.startswith(f".{n}.") for n in names)


@dataclass(frozen=True)
class RunDir:
    """The run directory at ``path`` (which may not exist yet)."""

    path: Path

    @property
    def config(self) -> Path:
        return self.path / CONFIG

    @property
    def record(self) -> Path:
        return self.path / RECORD

    def exported(self, fmt: str = "onnx", *, streaming: bool = False) -> Path:
        """Where ``timedist export`` writes by default: model.onnx, model-step.onnx, .pt2."""
        return self.path / f"{'model-step' if streaming else 'model'}.{fmt}"

    @property
    def metrics_csv(self) -> Path:
        return self.path / METRICS_CSV

    @property
    def metrics_json(self) -> Path:
        return self.path / METRICS_JSON

    @property
    def checkpoints(self) -> Path:
        return self.path / CHECKPOINTS

    @property
    def best(self) -> Path:
        return self.checkpoints / "best.ckpt"

    @property
    def last(self) -> Path:
        return self.checkpoints / "last.ckpt"

    @property
    def evaluation(self) -> Path:
        return self.path / EVALUATION

    def is_run(self) -> bool:
        """Whether this is a timedist run directory (it has a config.yaml)."""
        return self.config.is_file()

    def is_empty(self) -> bool:
        return not self.path.exists() or not any(self.path.iterdir())

    def written(self, relative: Path) -> bool:
        """Whether timedist writes the file at ``relative`` (a path inside the folder)."""
        parts = relative.parts
        if len(parts) == 1:
            return _written_name(parts[0], _TOP)
        if len(parts) == 2 and parts[0] == CHECKPOINTS:
            return _written_name(parts[1], CHECKPOINT_FILES)
        return len(parts) == 2 and parts[0] == EVALUATION and _written_name(parts[1],
                                                                            _EVALUATION)

    def _walk(self) -> tuple[list[Path], list[Path]]:
        """(files and links, empty folders) below the folder, relative to it. Links are never
        followed: a linked folder is one entry, and never timedist's."""
        files: list[Path] = []
        empty: list[Path] = []
        for root, folders, names in os.walk(self.path, followlinks=False):
            here = Path(root).relative_to(self.path)
            links = [f for f in folders if (Path(root) / f).is_symlink()]
            files += [here / n for n in [*names, *links]]
            if here != Path(".") and not folders and not names:
                empty.append(here)
        return sorted(files), sorted(empty)

    def files(self) -> list[Path]:
        """Every file and link below the folder, relative to it, sorted."""
        return self._walk()[0] if self.path.is_dir() else []

    def foreign(self) -> list[Path]:
        """Files timedist did not write (relative paths), links, and folders it does not
        make."""
        if not self.path.is_dir():
            return []
        files, empty = self._walk()
        found = [f for f in files if (self.path / f).is_symlink() or not self.written(f)]
        found += [d for d in empty if d not in (Path(CHECKPOINTS), Path(EVALUATION))]
        return sorted(found)

    def check_replaceable(self, flag: str = "--overwrite") -> None:
        """Raise a ConfigError unless every file here was written by timedist."""
        foreign = self.foreign()
        if foreign:
            shown = ", ".join(str(f) for f in foreign[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise ConfigError(f"{self.path}: {flag} replaces only what timedist wrote, and this "
                              f"folder also holds {shown}; move them away or choose another "
                              "--out")

    def clear(self) -> None:
        """Remove what timedist wrote (not the lock; foreign files are never touched), and the
        checkpoints/ and evaluation/ folders if that leaves them empty."""
        for relative in self.files():
            path = self.path / relative
            if self.written(relative) and relative.name != LOCK and not path.is_symlink():
                path.unlink()
        for folder in (self.checkpoints, self.evaluation):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()

    def discard(self, created: bool) -> None:
        """Undo a run that stopped before its first checkpoint: remove what it wrote, and the
        folder itself if this run ``created`` it and nothing else is in it."""
        self.clear()
        lock = self.path / LOCK
        if created:
            lock.unlink(missing_ok=True)
            if self.is_empty() and self.path.is_dir():
                self.path.rmdir()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the run directory (creating it) for this process; a RunLockedError names the
        holder if another process has it."""
        self.path.mkdir(parents=True, exist_ok=True)
        handle = open(self.path / LOCK, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            if not _try_lock(handle):
                handle.seek(0)
                holder = _describe_holder(handle.read())
                raise RunLockedError(f"{self.path}: in use by {holder}; wait for it to end or "
                                     "choose another --out")
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                     "command": " ".join(sys.argv),
                                     "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
            handle.flush()
            yield
        finally:
            _unlock(handle)
            handle.close()


def _describe_holder(text: str) -> str:
    try:
        info = json.loads(text)
        return (f"process {info['pid']} on {info['host']} since {info['since']} "
                f"({info['command']})")
    except (ValueError, KeyError, TypeError):
        return "another process"


try:  # POSIX: the kernel releases a flock when its process ends
    import fcntl

    def _try_lock(handle: IO[str]) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows: no advisory locks; runs are not locked
    def _try_lock(handle: IO[str]) -> bool:
        return True

    def _unlock(handle: IO[str]) -> None:
        return None
