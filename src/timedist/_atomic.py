"""Files safely: atomic writes, the rule for a file the user names as output, and the refusal
of anything at a file's path that is not a plain file or folder.

An atomic write goes to a temporary file beside the target, is flushed to disk, then renamed
over it: a process killed mid-write leaves the previous file (or none), never a half-written
one (the rename is atomic on POSIX and Windows file systems). The rename replaces a link at the
target with the file; it never writes through it.

An output file (``predict --output``, ``export --out``, ``explain --png``) is checked by
:func:`check_output` before anything is computed: an existing file is replaced only with
``--overwrite``, and never when it is one of the command's inputs; without ``--overwrite``
the final step never replaces a file that appeared meanwhile (:func:`atomic_write`'s
``replace=False``).

A FIFO, socket or device where a file is expected (:func:`check_plain`) is refused before it is
opened: reading one waits for a writer forever or never ends.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_text", "check_output", "check_plain"]

_KINDS = {stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket",
          stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device"}


def check_plain(path: str | Path, *, flag: str = "", follow: bool = True) -> None:
    """Refuse (ValueError naming ``flag`` and the path) a FIFO, socket or device at ``path``
    (through a link when ``follow``); a plain file, a folder or nothing there passes."""
    try:
        mode = (os.stat if follow else os.lstat)(path).st_mode
    except (OSError, ValueError):
        return
    kind = _KINDS.get(stat.S_IFMT(mode))
    if kind is not None:
        shown = f"{flag} {path}" if flag else str(path)
        raise ValueError(f"{shown}: is {kind}, not a file; expected a plain file")


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], Any], *,
                 on_temp: Callable[[Path], Any] | None = None, replace: bool = True) -> str:
    """Call ``write(handle)`` on a temporary file in ``path``'s folder (``.<name>.<8 random
    characters>.tmp``), then rename it to ``path``; returns the SHA-256 (hex) of the bytes
    written. ``on_temp(temporary path)`` is called once the temporary file exists and before
    anything is written to it (a run records it there). The temporary file is removed if
    ``write`` fails. With ``replace=False`` the last step is a hard link that fails
    (FileExistsError) if a file appeared at ``path`` meanwhile, never replacing it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(f"{path}: is a folder; expected a file path")
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:  # named by the file asked for, not the temporary one
        raise _unwritable(path, error) from None
    try:
        if on_temp is not None:
            on_temp(Path(tmp))
        with os.fdopen(fd, "w+b") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
            handle.seek(0)
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a plain open honours the umask
        try:
            if replace:
                os.replace(tmp, path)
            else:
                _link_new(Path(tmp), path)
        except FileExistsError:
            raise
        except OSError as error:
            raise _unwritable(path, error) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest.hexdigest()


def _unwritable(path: Path, error: OSError, shown: str | None = None) -> OSError:
    """The error for a file that cannot be written, naming it (``shown``: with its flag), not
    its temporary file."""
    why = error.strerror or str(error)
    return type(error)(f"{shown or path}: cannot be written in "
                       f"{os.path.abspath(path.parent)} ({why})")


def _link_new(tmp: Path, path: Path) -> None:
    """Put ``tmp`` at ``path`` only if nothing is there (a hard link fails on an existing
    name, atomically; where hard links are not supported, a check just before the rename)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(f"{path}: appeared while this command ran; it was left as it "
                              "is (pass --overwrite to replace it)") from None
    except OSError:  # a file system without hard links
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"{path}: appeared while this command ran; it was left as "
                                  "it is (pass --overwrite to replace it)") from None
        os.replace(tmp, path)
        return
    tmp.unlink()


def atomic_write_text(path: str | Path, text: str, *, replace: bool = True) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the SHA-256 of the bytes."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")),
                        replace=replace)


def check_output(path: str | Path, *, overwrite: bool, flag: str = "--output",
                 inputs: Sequence[str | Path] = (), protected: Callable[[Path], str | None]
                 | None = None, how: str = "--overwrite") -> Path:
    """The rule for a file the user names as output, checked before any work is done.

    Refuses (one line naming ``flag`` and the path): an empty path, a path ending in ``/``, a
    folder, a FIFO, socket or device (even with ``overwrite``), a path in a folder that does
    not exist (FileNotFoundError: a typo should not create folders) or cannot be written in
    (checked by creating and removing a temporary file there); an existing file unless
    ``overwrite`` (FileExistsError, saying to pass ``how``); a path that is one of ``inputs``
    (the same file, by path or through links), even with ``overwrite``; a path for which
    ``protected(path)`` gives a reason (e.g. a file of a timedist run), even with
    ``overwrite``. Returns the path to write: for a link, its target (checked too, since the
    checks follow links). Write it with ``atomic_write(..., replace=overwrite)``.
    """
    if not str(path).strip():
        raise ValueError(f"{flag or 'path'} {str(path)!r}: expected a file path; got an empty "
                         "one")
    shown = f"{flag} {path}" if flag else str(path)
    if str(path).endswith(("/", os.sep)):
        raise ValueError(f"{shown}: ends in / (a folder's name); expected a file path")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{shown}: is a folder; expected a file path")
    check_plain(path, flag=flag)  # a FIFO or device is never replaced, even with overwrite
    folder = Path(os.path.abspath(path.resolve() if path.is_symlink() else path)).parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{shown}: no such folder {folder} (timedist creates no "
                                "folders for an output file)")
    try:  # what the write will need, tried now (permissions, immutable folders, read-only and
        # special file systems): a new file of our own (mkstemp), removed at once
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".timedist-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        raise _unwritable(path, error, shown) from None
    for given in inputs:
        if _same_file(path, Path(given)):
            raise ValueError(f"{shown}: is an input of this command ({given}); it is never "
                             "replaced: choose another file")
    reason = protected(path) if protected is not None else None
    if reason:
        raise ValueError(f"{shown}: {reason}; choose another file")
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise FileExistsError(f"{shown}: exists; pass {how} to replace it")
    return path.resolve() if path.is_symlink() else path  # a link: written through, as a
    # shell's > writes through it (the link stays; its target gets the new content)


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _umask() -> int:
    """The process's umask (reading it means setting it; it is put back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
