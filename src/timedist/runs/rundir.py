"""A run directory: its layout (one place for every path), the proof of what timedist wrote
there, its lock, and the one way timedist writes into it.

The layout users' scripts read (docs/training.md)::

    config.yaml  preprocessing.json  metrics.csv  metrics.json  <plots>.png
    checkpoints/best.ckpt  checkpoints/last.ckpt  evaluation/  .timedist.lock
    .timedist-run.json  model.onnx  model-step.onnx  model.pt2  model-step.pt2

Ownership is proven, never guessed from names: ``.timedist-run.json`` (:mod:`.marker`) lists
every file timedist wrote with the SHA-256 of its bytes. ``--overwrite`` replaces a folder only
when it holds that marker and nothing else — no file the marker does not list, none changed
since timedist wrote it, no link, no other folder. No link below a run folder is ever followed:
every layout path is checked component by component (:meth:`RunDir.file`).

One process writes at a time: :meth:`RunDir.session` holds an exclusive ``flock`` on
``.timedist.lock`` (which names the holder while it is held: pid, host, command; it is empty
at rest, and never rewritten when it holds anything else) and is the only way to write
into a run (:meth:`RunSession.write`); readers (evaluate, predict, export, load) hold a shared
lock with :meth:`RunDir.reading`, so they never read a run while it is being rewritten. The
operating system releases a lock when its process ends, however it ends.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import socket
import stat
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import torch

from .._atomic import atomic_write, check_plain
from .config import ConfigError
from .marker import (
    MARKER,
    MARKER_TEMP,
    Marker,
    Source,
    file_sha256,
    looks_like_marker,
    new_id,
)

__all__ = ["EVALUATION_FILES", "LEGACY_SAMPLES", "SAMPLES", "CheckpointError", "RunDir",
           "RunLockedError", "RunSession", "layout_file", "read_checkpoint", "run_around",
           "run_file_reason"]

CONFIG, RECORD = "config.yaml", "preprocessing.json"
METRICS_CSV, METRICS_JSON = "metrics.csv", "metrics.json"
SAMPLES = "training_samples.keys"  # one key per training sample as read, in order
LEGACY_SAMPLES = "training_samples.sha256"  # earlier timedist: exact keys (SHA-256 of values)
CHECKPOINTS, EVALUATION, LOCK = "checkpoints", "evaluation", ".timedist.lock"
CHECKPOINT_FILES = ("best.ckpt", "last.ckpt")
PLOTS = ("learning_curves.png", "confusion_matrix.png", "examples.png", "predicted_vs_true.png",
         "forecast.png")
EXPORTS = tuple(f"{name}.{fmt}" for name in ("model", "model-step") for fmt in ("onnx", "pt2"))
_TOP = (CONFIG, RECORD, METRICS_CSV, METRICS_JSON, SAMPLES, LEGACY_SAMPLES, *PLOTS,
        *EXPORTS)
EVALUATION_FILES = ("evaluation.json", *(p for p in PLOTS if p != "learning_curves.png"))
_EVALUATION = EVALUATION_FILES
Content = bytes | str | Callable[[IO[bytes]], Any]
_TEMPORARY = re.compile(r"\.(.+)\.[a-z0-9_]{8}\.tmp")  # tempfile.mkstemp's names, _atomic.py


class RunLockedError(ConfigError):
    """Another process holds the run directory."""


class CheckpointError(ConfigError):
    """A checkpoint that cannot be read, or that does not fit its run."""


def read_checkpoint(path: Path) -> dict[str, Any]:
    """A checkpoint's contents, loaded with ``weights_only=True`` (tensors and plain data only:
    loading never runs code from the file). A missing, truncated, foreign or malicious file is a
    :class:`CheckpointError` naming it."""
    if path.is_symlink() or not path.is_file():
        raise CheckpointError(f"{path}: is a folder; expected a checkpoint file" if path.is_dir()
                              else f"{path}: no such checkpoint")
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


def layout_file(relative: Path) -> bool:
    """Whether timedist ever writes a file at ``relative`` inside a run (the marker and the
    lock are not listed: they are never replaced or removed by name)."""
    parts = relative.parts
    if len(parts) == 1:
        return parts[0] in _TOP
    if len(parts) == 2 and parts[0] == CHECKPOINTS:
        return parts[1] in CHECKPOINT_FILES
    return len(parts) == 2 and parts[0] == EVALUATION and parts[1] in _EVALUATION


def _holds_run(folder: Path) -> bool:
    return (folder / MARKER).exists() or ((folder / CONFIG).is_file()
                                          and (folder / RECORD).is_file())


def run_file_reason(path: Path) -> str | None:
    """Why ``path`` must never be a command's output file, or None: it is a file of a timedist
    run (its marker, its lock, or a file of the run layout, through links too), or anything
    else inside a run folder (a file there that the marker does not list keeps ``--overwrite``
    from ever replacing the run)."""
    for candidate in {Path(os.path.abspath(path)), Path(path).resolve()}:
        for folder in list(candidate.parents)[:2]:
            if _holds_run(folder):
                relative = candidate.relative_to(folder)
                if relative in (Path(MARKER), Path(LOCK), Path(MARKER_TEMP)) or layout_file(
                        relative):
                    return f"is {relative} of the timedist run {folder}"
    host = run_around(path)
    if host is not None:
        return (f"is inside the timedist run {host} (a file of yours there would keep "
                "--overwrite from replacing the run)")
    return None


def run_around(path: Path) -> Path | None:
    """The timedist run folder that ``path`` would be inside (any folder above it, through
    links too), or None."""
    for candidate in (Path(os.path.abspath(path)), Path(path).resolve()):
        for folder in candidate.parents:
            if _holds_run(folder):
                return folder
    return None


def _temporary_of(relative: Path) -> Path | None:
    """The layout file an atomic write's temporary file (``.<name>.<8 random>.tmp``) would be
    for, or None. (A name is no proof: a run's marker lists the temporaries under way.)"""
    match = _TEMPORARY.fullmatch(relative.name)
    if match is None:
        return None
    candidate = relative.with_name(match.group(1))
    return candidate if layout_file(candidate) else None


@dataclass(frozen=True)
class RunDir:
    """The run directory at ``path`` (which may not exist yet). Every layout path is checked
    when it is taken: a link anywhere below ``path`` is a ConfigError, never followed."""

    path: Path

    def file(self, relative: str | Path) -> Path:
        """``path / relative``, refusing a link at any component below ``path``, and anything
        there that is neither a plain file nor a folder (a FIFO, socket or device: reading one
        would wait forever or never end)."""
        current = self.path
        for part in Path(relative).parts:
            current = current / part
            if current.is_symlink():
                raise ConfigError(f"{current}: is a link (to {os.readlink(current)}); timedist "
                                  "never follows links inside a run folder: put the file or "
                                  "folder itself there, or choose another run folder")
            check_plain(current, follow=False)
        return current

    @property
    def config(self) -> Path:
        return self.file(CONFIG)

    @property
    def record(self) -> Path:
        return self.file(RECORD)

    def exported(self, fmt: str = "onnx", *, streaming: bool = False) -> Path:
        """Where ``timedist export`` writes by default: model.onnx, model-step.onnx, .pt2."""
        return self.file(f"{'model-step' if streaming else 'model'}.{fmt}")

    @property
    def metrics_csv(self) -> Path:
        return self.file(METRICS_CSV)

    @property
    def metrics_json(self) -> Path:
        return self.file(METRICS_JSON)

    @property
    def checkpoints(self) -> Path:
        return self.file(CHECKPOINTS)

    @property
    def best(self) -> Path:
        return self.file(f"{CHECKPOINTS}/best.ckpt")

    @property
    def last(self) -> Path:
        return self.file(f"{CHECKPOINTS}/last.ckpt")

    @property
    def evaluation(self) -> Path:
        return self.file(EVALUATION)

    def absent(self, relative: str, what: str = "") -> str:
        """Why the run file ``relative`` cannot be read, for a message: a folder, or a file,
        where a file, or a folder on its way, was expected; or not found (then followed by
        ``what``: what that may mean)."""
        current = self.path
        parts = Path(relative).parts
        for depth, part in enumerate(parts, start=1):
            current = current / part
            wanted = "file" if depth == len(parts) else "folder"
            if current.is_dir() and wanted == "file":
                return f"{current}: is a folder; expected the run's {relative} file"
            if current.exists() and not current.is_dir() and wanted == "folder":
                return f"{current}: is a file; expected the run's {part}/ folder"
            if not current.exists():
                return f"{self.path / relative}: not found{what}"
        return f"{current}: not a plain file"

    def why_not_run(self) -> str:
        """The message for a folder that is not a run (:meth:`is_run` is False)."""
        if not self.path.is_dir():
            return (f"{self.path}: not a timedist run directory ("
                    + ("it is a file)" if self.path.exists() else "not found)"))
        if not self.file(CONFIG).exists():
            return f"{self.path}: not a timedist run directory (no {CONFIG})"
        return self.absent(CONFIG, " (is it a timedist run directory?)")

    def is_run(self) -> bool:
        """Whether there is a run to read here (a config.yaml; a run of an earlier timedist
        has no marker)."""
        return self.path.is_dir() and self.config.is_file()

    def is_empty(self) -> bool:
        """Nothing here (the lock file of this process's session does not count)."""
        if not self.path.is_dir():
            return not self.path.exists() and not self.path.is_symlink()
        return all(entry.name == LOCK for entry in self.path.iterdir())

    def relative(self, path: Path) -> Path | None:
        """``path`` relative to the run folder, if it is inside it (without following links
        below the folder), else None."""
        try:
            return Path(os.path.abspath(path)).relative_to(os.path.abspath(self.path))
        except ValueError:
            return None

    def read_marker(self) -> Marker | None:
        """The folder's marker (None when there is none: not a run, or one of an earlier
        timedist); a ConfigError when it is a link or was not written by timedist."""
        path = self.file(MARKER)
        if not path.exists():
            return None
        if not path.is_file() or path.stat().st_size > 4 << 20:
            raise ConfigError(f"{path}: not a marker timedist wrote (not a small file)")
        return Marker.from_json(path.read_text(encoding="utf-8", errors="replace"), str(path),
                                layout_file, _temporary_of)

    def _walk(self) -> tuple[list[Path], list[Path]]:
        """(files and links, empty folders) below the folder, relative to it. Links are never
        followed: a linked folder is one entry."""
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

    def foreign(self, marker: Marker | None) -> list[str]:
        """What timedist cannot prove it wrote, each as ``path`` or ``path (why)``: files the
        marker does not list, files changed since, links, folders it does not make."""
        if not self.path.is_dir():
            return []
        files, empty = self._walk()
        listed = marker.files if marker is not None else {}
        temps = set(marker.temps) if marker is not None else set()
        found = []
        for relative in files:
            path = self.path / relative
            if path.is_symlink():
                found.append(f"{relative} (a link)")
            elif not path.is_file():
                found.append(f"{relative} (not a plain file)")
            elif relative in (Path(MARKER), Path(LOCK)) or relative.as_posix() in temps or (
                    relative == Path(MARKER_TEMP) and looks_like_marker(path)):
                continue
            elif relative.as_posix() not in listed:
                found.append(str(relative))
            elif listed[relative.as_posix()] not in (None, file_sha256(path)):
                found.append(f"{relative} (changed since timedist wrote it)")
        found += [str(d) for d in empty if d not in (Path(CHECKPOINTS), Path(EVALUATION))]
        return found

    def check_place(self, flag: str = "--out") -> None:
        """A run folder is a folder of its own: never a file, never a link to nothing, never
        inside another run (whose files it would mix with); a ConfigError naming ``flag``."""
        path = self.path
        above = next((p for p in Path(os.path.abspath(path)).parents if p.exists()), None)
        if above is not None and not above.is_dir():
            raise ConfigError(f"{flag} {path}: {above} is a file; expected a folder for the run")
        if path.is_symlink() and not path.exists():
            raise ConfigError(f"{flag} {path}: is a link to {os.readlink(path)}, which does not "
                              "exist; expected a folder for the run")
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{flag} {path}: is a file; expected a folder for the run")
        host = run_around(path)
        if host is not None:
            raise ConfigError(f"{flag} {path}: is inside the timedist run {host}; choose a "
                              "folder outside it")

    def check_replaceable(self, flag: str = "--overwrite", out: str = "--out") -> None:
        """Raise a ConfigError unless this folder is empty, or a run timedist can prove it
        wrote, every file of it as timedist wrote it (``flag``/``out``: how the user asked to
        replace it / names the folder, in the message)."""
        if self.is_empty():
            return
        if not self.path.is_dir():
            raise ConfigError(f"{self.path}: is a file, not a run folder; refusing to replace it")
        marker = self.read_marker()
        if marker is None or marker.id is None:
            older = self.is_run() and self.file(RECORD).is_file()
            raise ConfigError(
                f"{self.path}: not a run timedist can prove it wrote (no {MARKER}"
                + ("; it looks like a run of an earlier timedist, which kept no list of its "
                   "files" if older else "") + f"); {flag} replaces only timedist's own runs: "
                f"move the folder away or choose another {out}")
        foreign = self.foreign(marker)
        if foreign:
            shown = ", ".join(foreign[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise ConfigError(f"{self.path}: {flag} replaces only what timedist wrote, and this "
                              f"folder also holds {shown}; move them away or choose another "
                              f"{out}")

    @contextmanager
    def session(self, *, create: bool = False) -> Iterator[RunSession]:
        """Hold the run folder exclusively for this process (creating it with ``create``);
        yields the :class:`RunSession` through which every file is written. A RunLockedError
        names the holder if another process has it."""
        if not create and not self.is_run():
            raise ConfigError(self.why_not_run())
        self.path.mkdir(parents=True, exist_ok=True)
        with _held(self, shared=False):
            marker = self.read_marker()
            _check_no_other_writer(self, marker)
            yield RunSession(self, marker)

    @contextmanager
    def reading(self) -> Iterator[Marker | None]:
        """Hold the run folder shared (readers exclude writers, not each other); yields its
        marker (None for a run of an earlier timedist, which is read without a lock when it
        has no lock file)."""
        if not self.is_run():
            raise ConfigError(self.why_not_run())
        if not self.file(LOCK).exists():
            yield self.read_marker()
            return
        with _held(self, shared=True):
            yield self.read_marker()


class RunSession:
    """A run folder held by this process: the only way timedist writes into a run.

    Each write is proven: before it, the file must be absent, listed in the marker as
    timedist's with its bytes unchanged, or ``overwrite`` given; the marker records the write
    as under way (null), the file is written atomically, then the marker records its SHA-256.
    A kill between the steps leaves a file the marker still proves timedist's.
    """

    def __init__(self, run: RunDir, marker: Marker | None) -> None:
        self.run = run
        self.marker = marker

    @property
    def path(self) -> Path:
        return self.run.path

    def save_marker(self) -> None:
        """Write the marker atomically, through its own temporary file (one name: this process
        holds the folder), never following a link and never replacing a file of someone
        else's at that name."""
        assert self.marker is not None
        self.marker.writer = _this_process()
        data = self.marker.to_json().encode("utf-8")
        temporary, target = self.run.file(MARKER_TEMP), self.run.file(MARKER)
        if temporary.exists() and not looks_like_marker(temporary):
            raise ConfigError(f"{temporary}: a file of someone else's at the name timedist "
                              "writes its marker through; move it away")
        temporary.unlink(missing_ok=True)  # a name only (a hard link's other names keep it)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(temporary, flags, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise

    def owns(self, relative: str) -> bool:
        """Whether the file at ``relative`` is timedist's by proof (listed, bytes unchanged)."""
        if self.marker is None or relative not in self.marker.files:
            return False
        digest = self.marker.files[relative]
        path = self.run.file(relative)
        return digest is None or not path.is_file() or file_sha256(path) == digest

    def check_writable(self, relative: str | Path, *, overwrite: bool = False) -> Path:
        """The path of ``relative`` if :meth:`write` may write it (a layout file, absent or
        timedist's, or ``overwrite``); else FileExistsError — checked before slow work."""
        name = Path(relative).as_posix()
        if not layout_file(Path(name)):
            raise ValueError(f"{name}: not a file of a run's layout")
        path = self.run.file(name)
        for folder in Path(name).parents[:-1]:  # e.g. evaluation/: a folder, or nothing yet
            where = self.run.file(folder.as_posix())
            if where.exists() and not where.is_dir():
                raise FileExistsError(f"{where}: is a file; expected the folder timedist writes "
                                      f"{Path(name).name} in: move it away")
        if (path.exists() or path.is_symlink()) and not overwrite and not self.owns(name):
            raise FileExistsError(f"{path}: exists and timedist did not write it (or it "
                                  "changed since); pass --overwrite to replace it")
        return path

    def write(self, relative: str | Path, content: Content, *, overwrite: bool = False) -> Path:
        """Write ``content`` (bytes, text, or a function writing to a binary handle) at
        ``relative`` atomically and record it in the marker. An existing file timedist cannot
        prove it wrote is replaced only with ``overwrite`` (else FileExistsError)."""
        name = Path(relative).as_posix()
        path = self.check_writable(name, overwrite=overwrite)
        if self.marker is None:  # a run of an earlier timedist, adopted by this command
            self.marker = Marker(None, "unknown")
        marker = self.marker
        temporary: list[str] = []

        def under_way(tmp: Path) -> None:  # before a byte is written: the file is ours
            temporary.append((Path(name).parent / tmp.name).as_posix())
            marker.files[name] = None
            marker.temps.append(temporary[0])
            self.save_marker()

        if isinstance(content, (bytes, str)):
            data = content.encode("utf-8") if isinstance(content, str) else content
            writer: Callable[[IO[bytes]], Any] = lambda handle: handle.write(data)  # noqa: E731
        else:
            writer = content
        try:
            digest = atomic_write(path, writer, on_temp=under_way)
        finally:
            if temporary and temporary[0] in marker.temps:
                marker.temps.remove(temporary[0])
        marker.files[name] = digest
        self.save_marker()
        return path

    def remove(self, relative: str | Path) -> None:
        """Remove a file timedist wrote (never one it cannot prove its own)."""
        name = Path(relative).as_posix()
        if self.owns(name):
            self.run.file(name).unlink(missing_ok=True)
            assert self.marker is not None
            self.marker.files.pop(name, None)
            self.save_marker()

    def start(self, sources: dict[str, Source], classes: list[str] | None) -> None:
        """Begin a new run here (after :meth:`replace`): a new marker with a new id, the data's
        ``sources`` and ``classes``, and no files yet."""
        self.marker = Marker(new_id(), "training", {}, dict(sources), classes)
        self.save_marker()

    def replace(self, *, overwrite: bool, flag: str = "--overwrite") -> None:
        """Check again, under the lock, that the folder is empty — or, with ``overwrite``, a
        run timedist can prove it wrote — then remove the old run's files (never the user's:
        the check refuses first)."""
        if self.run.is_empty():
            return
        if not overwrite:
            raise ConfigError(f"{self.path}: the run directory exists (it appeared while this "
                              f"fit was starting); pass {flag} to replace it")
        self.run.check_replaceable(flag)
        self.clear()

    def clear(self) -> None:
        """Remove every file timedist wrote here (listed in the marker, or the temporary file
        of one of its atomic writes), the marker, and checkpoints/ and evaluation/ if that
        leaves them empty. The lock stays."""
        listed = set(self.marker.files) | set(self.marker.temps) if self.marker else set()
        for relative in self.run.files():
            path = self.path / relative
            if path.is_symlink():
                continue
            if relative.as_posix() in listed:
                path.unlink(missing_ok=True)
        temporary = self.run.file(MARKER_TEMP)
        if temporary.is_file() and looks_like_marker(temporary):
            temporary.unlink()
        self.run.file(MARKER).unlink(missing_ok=True)
        self.marker = None
        for folder in (CHECKPOINTS, EVALUATION):
            path = self.run.file(folder)
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()

    def finish(self) -> None:
        """The run is complete (metrics.json is written)."""
        assert self.marker is not None
        self.marker.state = "complete"
        self.save_marker()

    def discard(self, created: bool) -> None:
        """Undo a run that stopped before its first checkpoint: remove what it wrote, and the
        folder itself if this run ``created`` it and nothing else is in it."""
        self.clear()
        if created:
            self.run.file(LOCK).unlink(missing_ok=True)
            if self.path.is_dir() and not any(self.path.iterdir()):
                self.path.rmdir()


@contextmanager
def _held(run: RunDir, *, shared: bool) -> Iterator[None]:
    """An flock on the run's ``.timedist.lock`` (opened without following a link), exclusive
    (the holder's pid, host and command written into it) or shared."""
    path = run.file(LOCK)
    flags = (os.O_RDONLY if shared else os.O_RDWR | os.O_CREAT) | getattr(os, "O_NOFOLLOW", 0)
    try:  # non-blocking: a FIFO put there must not hang the open
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0),
                     0o666)
    except OSError as error:
        raise ConfigError(f"{path}: cannot open the run's lock ({error.strerror})") from None
    status = os.fstat(fd)
    if not stat.S_ISREG(status.st_mode):
        os.close(fd)
        raise ConfigError(f"{path}: the run's lock is not a plain file (a folder, FIFO or "
                          "device someone put there); move it away")
    private = status.st_nlink == 1  # a hard link's bytes are also another file's: never written
    with os.fdopen(fd, "r" if shared else "r+", encoding="utf-8") as handle:
        if not _try_lock(handle, shared):
            handle.seek(0)
            holder = _describe_holder(handle.read(4096), readers=not shared and _readers_only(
                handle))
            raise RunLockedError(f"{run.path}: in use by {holder}; wait for it to end")
        named = not shared and private and _ours(handle)  # never rewrite another's file
        try:
            if named:  # who holds it, for a process that finds it held
                handle.seek(0)
                handle.truncate()
                handle.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                         "command": " ".join(sys.argv)[:500],
                                         "since": time.strftime("%Y-%m-%d %H:%M:%S")}) + "\n")
                handle.flush()
            yield
        finally:
            if named:  # empty again at rest: a command that changed nothing leaves it as it was
                handle.seek(0)
                handle.truncate()
            _unlock(handle)


def _this_process() -> dict[str, str | int]:
    return {"pid": os.getpid(), "start": _started(os.getpid()), "host": socket.gethostname()}


def _started(pid: int) -> str:
    """When process ``pid`` started (Linux: its start time in clock ticks since boot, which
    tells a reused pid apart); "" where that cannot be read."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def _check_no_other_writer(run: RunDir, marker: Marker | None) -> None:
    """Refuse to take a run that another live process on this host is still writing: its
    lock was removed (a "stale lock" cleanup), so the lock alone cannot tell."""
    writer = marker.writer if marker is not None and marker.state == "training" else None
    if not writer or writer["host"] != socket.gethostname() or writer["pid"] == os.getpid():
        return
    pid = int(writer["pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return  # it ended (a killed run): the folder is free
    except OSError:
        pass  # alive, another user's
    if writer["start"] and _started(pid) not in ("", writer["start"]):
        return  # the pid now belongs to another process
    raise RunLockedError(f"{run.path}: process {pid} on this machine is still writing this run "
                         f"(its {LOCK} was removed meanwhile); wait for it to end or stop it")


def _ours(handle: IO[str]) -> bool:
    """Whether the lock file is empty or holds a holder's line that timedist wrote."""
    handle.seek(0)
    text = handle.read(4096)
    if not text.strip():
        return True
    try:
        info = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return isinstance(info, dict) and set(info) == {"pid", "host", "command", "since"}


def _describe_holder(text: str, *, readers: bool = False) -> str:
    if readers:
        return "another timedist process reading it (evaluate, predict, export or load)"
    try:
        info = json.loads(text)
        return (f"process {info['pid']} on {info['host']} since {info['since']} "
                f"({info['command']})")
    except (ValueError, KeyError, TypeError, RecursionError):
        return "another process"


try:  # POSIX: the kernel releases a flock when its process ends
    import fcntl

    def _try_lock(handle: IO[str], shared: bool = False) -> bool:
        try:
            fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
                        | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _readers_only(handle: IO[str]) -> bool:
        """After an exclusive lock failed: whether only shared holders (readers) are there."""
        if not _try_lock(handle, shared=True):
            return False
        _unlock(handle)
        return True

    def _unlock(handle: IO[str]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

except ImportError:  # pragma: no cover - Windows: no advisory locks; runs are not locked
    def _try_lock(handle: IO[str], shared: bool = False) -> bool:
        return True

    def _readers_only(handle: IO[str]) -> bool:
        return False

    def _unlock(handle: IO[str]) -> None:
        return None
