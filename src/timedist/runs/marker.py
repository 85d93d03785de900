"""The proof that a folder is a timedist run: ``.timedist-run.json``, which only timedist writes.

It lists every file timedist wrote in the run (its path inside the folder -> the SHA-256 of the
bytes written; ``null`` while a write is under way), the run's id, its state (``training`` until
``metrics.json`` is written, then ``complete``; ``unknown`` for a run of an earlier timedist that
a later command adopted), where the data came from (the path as the user meant it, the same
path relative to the run folder, and a fingerprint of the content) and the classes.

Anything in a run folder that the marker does not list, or whose bytes differ from the bytes
timedist wrote, is the user's: ``--overwrite`` refuses to touch it. A marker is validated on
every read: an entry outside the run's layout (``../x``, ``/etc/x``, a name timedist never
writes) makes it invalid, so no marker can point timedist at a file outside the folder.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .._checks import RUN_MARKER, shorten
from .config import ConfigError

__all__ = ["FORMAT", "MARKER", "MARKER_TEMP", "STATES", "Marker", "Source", "file_sha256",
           "looks_like_marker", "new_id"]

MARKER = RUN_MARKER
MARKER_TEMP = ".timedist-run.json.tmp"  # the marker's own atomic writes (under the lock)
FORMAT = 1
STATES = ("training", "complete", "unknown")
MAX_BYTES = 4 << 20  # a marker lists a few files: anything larger was not written by timedist
_HASH = re.compile(r"[0-9a-f]{64}")


def file_sha256(path: Path) -> str:
    """The SHA-256 (hex) of a file's bytes, read in 1 MiB blocks (a ValueError for anything
    but a plain file: a FIFO is never waited on)."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ValueError(f"{path}: not a plain file (a FIFO, socket, device or folder); "
                         "timedist never wrote it")
    with os.fdopen(fd, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def new_id() -> str:
    """A new run's id (random, 32 hex digits)."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Source:
    """Where a run's data came from: ``path`` as the user meant it (absolute; a built-in
    dataset's name), ``relative`` the same file relative to the run folder (found again when
    both are moved together; None for built-in data or another drive), ``fingerprint`` the
    SHA-256 of the samples' content (see :func:`timedist.data.fingerprint`), ``samples`` N."""

    path: str
    relative: str | None
    fingerprint: str
    samples: int


@dataclass
class Marker:
    """The content of ``.timedist-run.json`` (see the module)."""

    id: str | None
    state: str = "training"
    files: dict[str, str | None] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    classes: list[str] | None = None
    temps: list[str] = field(default_factory=list)
    writer: dict[str, str | int] | None = None  # the last process that wrote: pid, start, host

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "id": self.id, "state": self.state,
                           "files": dict(sorted(self.files.items())), "temps": self.temps,
                           "sources": {k: dataclasses.asdict(v) for k, v in self.sources.items()},
                           "classes": self.classes, "writer": self.writer}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str, where: str, allowed: Callable[[Path], bool],
                  temporary: Callable[[Path], Path | None]) -> Marker:
        """Parse and check a marker; ``allowed(relative)`` says whether timedist ever writes
        a file at that path of a run, ``temporary(relative)`` which file a temporary file
        of an atomic write is for. A ConfigError names what is wrong."""
        def bad(what: str) -> ConfigError:
            return ConfigError(f"{where}: not a marker timedist wrote ({what}); timedist will "
                               "not treat this folder as its run")

        try:
            raw = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: nested too deeply
            raise bad(f"not valid JSON: {error}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise bad(f"expected an object with format {FORMAT}; got {shorten(raw)}")
        run_id, state = raw.get("id"), raw.get("state")
        if run_id is not None and not (isinstance(run_id, str) and re.fullmatch(r"[0-9a-f]{32}",
                                                                                run_id)):
            raise bad(f"expected 'id' of 32 hex digits; got {shorten(run_id)}")
        if state not in STATES:
            raise bad(f"expected 'state' one of {', '.join(STATES)}; got {shorten(state)}")
        files = raw.get("files")
        if not isinstance(files, dict):
            raise bad(f"expected 'files' as an object; got {shorten(files)}")
        for name, digest in files.items():
            relative = Path(name)
            if (relative.is_absolute() or ".." in relative.parts or name != relative.as_posix()
                    or not allowed(relative)):
                raise bad(f"it lists {shorten(name)}, a file timedist never writes in a run")
            if digest is not None and not (isinstance(digest, str) and _HASH.fullmatch(digest)):
                raise bad(f"expected a SHA-256 or null for {name}; got {shorten(digest)}")
        temps = raw.get("temps", [])
        if not isinstance(temps, list) or not all(
                isinstance(t, str) and ".." not in Path(t).parts and not Path(t).is_absolute()
                and temporary(Path(t)) is not None for t in temps):
            raise bad(f"expected 'temps' as temporary files of its own; got {shorten(temps)}")
        sources: dict[str, Source] = {}
        for key, entry in (raw.get("sources") or {}).items():
            try:
                source = Source(**entry)
                if not (isinstance(source.path, str) and isinstance(source.fingerprint, str)
                        and isinstance(source.samples, int)
                        and isinstance(source.relative, (str, type(None)))):
                    raise TypeError
            except TypeError:
                raise bad(f"expected sources.{key} as path, relative, fingerprint, samples; "
                          f"got {shorten(entry)}") from None
            sources[str(key)] = source
        classes = raw.get("classes")
        if classes is not None and not (isinstance(classes, list)
                                        and all(isinstance(c, str) for c in classes)):
            raise bad(f"expected 'classes' as a list of names; got {shorten(classes)}")
        writer = raw.get("writer")
        if writer is not None and not (isinstance(writer, dict) and set(writer) == {
                "pid", "start", "host"} and all(isinstance(v, (str, int)) for v in
                                                writer.values())):
            raise bad(f"expected 'writer' as pid, start, host; got {shorten(writer)}")
        return cls(run_id, state, dict(files), sources, classes, list(temps), writer)


def looks_like_marker(path: Path) -> bool:
    """Whether the file at ``path`` is empty or holds a marker's JSON (what a kill during the
    marker's own write leaves in its temporary file)."""
    try:
        text = path.read_text(encoding="utf-8")
        return not text.strip() or json.loads(text).get("format") == FORMAT
    except (OSError, ValueError, AttributeError, RecursionError):
        return False
