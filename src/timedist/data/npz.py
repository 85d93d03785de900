"""The user's own sequences from a NumPy ``.npz`` file (no pickles).

Two layouts of ``X``: padded (N, T, C) with optional ``lengths`` (N,), or ragged — the
concatenation (sum of lengths, C) of all samples — with ``lengths`` (N,) integers. ``y`` holds
integer, boolean or string labels (classification: the classes are the distinct labels,
sorted, or the order of an optional ``classes`` array) or float targets (regression). NaN in X
is a missing value; infinities, and NaN targets, are errors. Other arrays are ignored.

An ``X`` stored uncompressed (``np.savez``, not ``np.savez_compressed``) is memory-mapped:
its samples are views of the file, read when used, so the data need not fit in memory
(rocket reads it batch by batch); the file is never written.
"""

from __future__ import annotations

import math
import struct
import zipfile
from pathlib import Path

import numpy as np
import torch

from .._checks import shorten
from .dataset import SequenceDataset
from .labels import label_name, label_names

__all__ = ["load_npz", "save_npz"]


def load_npz(path: str | Path, *, require_targets: bool = True) -> SequenceDataset:
    """Read ``X``, ``y`` and optional ``lengths`` from ``path`` into a SequenceDataset.

    Padded ``X`` may also hold frames (N, T, C, H, W). With ``require_targets=False`` a file
    without ``y`` (inputs to predict) loads with zero float targets.
    """
    name = Path(path).name
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        why = str(error).split(".")[0] if isinstance(error, OSError) or zipfile.is_zipfile(
            path) else "it is not a zip archive, which every .npz is"
        raise ValueError(f"{name}: expected a NumPy .npz archive (np.savez); could not read it "
                         f"({why})") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise ValueError(f"{name}: expected a .npz archive of named arrays (np.savez); got a "
                         f"single {type(archive).__name__} (a .npy file)")
    with archive as arrays:
        members = [m[:-4] if m.endswith(".npy") else m for m in arrays.zip.namelist()]
        twice = sorted({m for m in members if members.count(m) > 1})
        if twice:  # np.load would silently take one of them
            raise ValueError(f"{name}: expected each array once; {shorten(twice)} "
                             f"{'is' if len(twice) == 1 else 'are'} stored twice in the archive")
        needed = ("X", "y") if require_targets else ("X",)
        missing = [k for k in needed if k not in arrays]
        if missing:
            raise ValueError(f"{name}: expected arrays {' and '.join(map(repr, needed))} (and "
                             f"optional 'lengths'); missing {missing}, found "
                             f"{sorted(arrays.files)}")
        try:
            x = _mapped(Path(path), arrays.zip.getinfo(_member(arrays, "X")))
            x = arrays["X"] if x is None else x
            if x.ndim == 0:
                raise ValueError(f"{name}: expected X (N, T, C) or ragged (sum of lengths, C); "
                                 "got a single number (shape ())")
            if "y" in arrays and arrays["y"].ndim == 0:
                raise ValueError(f"{name}: expected y of shape (N,); got a single value "
                                 "(shape ())")
            lengths = arrays["lengths"] if "lengths" in arrays else None  # noqa: SIM401
            count = len(x) if lengths is None or x.ndim != 2 or lengths.ndim != 1 else len(
                lengths)
            y = arrays["y"] if "y" in arrays else np.zeros(count, dtype=np.float32)
            order = arrays["classes"] if "classes" in arrays else None  # noqa: SIM401
            if order is not None and order.ndim > 1:
                raise ValueError(f"{name}: expected classes as a 1-D array of names (K,); "
                                 f"got shape {order.shape}")
            order = None if order is None else order.tolist()
        except MemoryError as error:  # a header that claims more than this machine holds
            raise ValueError(f"{name}: an array does not fit in memory "
                             f"({' '.join(str(error).split())[:160]})") from None
        except ValueError as error:  # object arrays: loading them would unpickle
            if str(error).startswith(name):
                raise
            raise ValueError(f"{name}: expected arrays of numbers or strings; it holds Python "
                             "objects (dtype=object), which are not loaded (unpickling runs "
                             "code): save a padded X with 'lengths', or the ragged layout"
                             ) from None
    x, y = _native(name, "X", x), _native(name, "y", y)
    if lengths is not None and (lengths.ndim != 1 or len(lengths) != len(y)):
        raise ValueError(f"{name}: expected lengths (N,) = ({len(y)},) for y of shape "
                         f"{y.shape}; got shape {lengths.shape}")
    if lengths is not None and lengths.dtype.kind not in "iu":
        raise ValueError(f"{name}: expected integer lengths; got dtype {lengths.dtype} "
                         f"(values {lengths.tolist()[:5]})")
    if order is not None and y.dtype.kind == "f":
        raise ValueError(f"{name}: 'classes' declares classes, but y holds float values "
                         f"({shorten(np.unique(y)[:5].tolist())}), read as regression targets: "
                         "give y as the class labels (names or integers), or drop 'classes'")
    if order is not None:  # a name given twice is one class, at its first place
        listed = [order] if np.ndim(order) == 0 else order
        order = label_names(list(dict.fromkeys(label_name(c, f"{name}: classes")
                                               for c in listed)), f"{name}: classes")
    _check_values(name, x, y)
    if x.ndim >= 2 and (len(y) if x.ndim == 2 and lengths is not None else len(x)) == 0:
        raise ValueError(f"{name}: expected at least one sample; got X of shape {x.shape}")
    if x.ndim >= 2 and 0 in x.shape[1:]:
        raise ValueError(f"{name}: expected at least one step and one channel in X "
                         f"({'(N, T, C, ...)' if x.ndim >= 3 else '(sum of lengths, C)'}); got "
                         f"shape {x.shape}")
    if lengths is not None and lengths.min(initial=1) < 1:
        raise ValueError(f"{name}: expected lengths >= 1 (steps per sample); got values "
                         f"{shorten(lengths.tolist()[:10])}")
    if x.ndim >= 3:
        if len(x) != len(y):
            raise ValueError(f"{name}: expected X (N, T, C, ...) with N = len(y) = {len(y)}; got "
                             f"shape {x.shape}")
        steps = np.full(len(x), x.shape[1]) if lengths is None else lengths
        if steps.min(initial=1) < 1 or steps.max(initial=0) > x.shape[1]:
            raise ValueError(f"{name}: expected lengths in [1, T={x.shape[1]}]; got values "
                             f"{steps.tolist()[:10]}")
        sequences = [torch.as_tensor(x[i, : int(n)]) for i, n in enumerate(steps)]
    elif x.ndim == 2:
        if lengths is None:
            raise ValueError(f"{name}: expected X of shape (N, T, C) (or ragged (sum of "
                             f"lengths, C) with 'lengths'); got shape {x.shape} and no "
                             "'lengths': for N univariate series of T steps add a channel "
                             "axis, X[..., None]")
        if int(lengths.sum()) != len(x):
            raise ValueError(f"{name}: expected ragged X (sum of lengths, C) with 'lengths' "
                             f"summing to {len(x)}; got lengths "
                             f"{None if lengths is None else int(lengths.sum())}")
        sequences = list(torch.split(torch.as_tensor(x), [int(n) for n in lengths]))
    else:
        raise ValueError(f"{name}: expected X (N, T, C) or ragged (sum of lengths, C); got "
                         f"shape {x.shape}")
    if y.dtype.kind in "USiub":  # labels: their distinct values (or 'classes'), in order
        if y.ndim != 1:
            raise ValueError(f"{name}: expected class labels y (N,); got shape {y.shape}")
        values, inverse = np.unique(y, return_inverse=True)
        found = label_names(values.tolist(), f"{name}: y")
        classes = found if order is None else order
        unknown = sorted(set(found) - set(classes))
        if unknown:
            raise ValueError(f"{name}: expected labels among 'classes' {shorten(classes)}; got "
                             f"{shorten(unknown[:5])}")
        index = torch.tensor([classes.index(n) for n in found], dtype=torch.long)
        return SequenceDataset(sequences, index[torch.as_tensor(inverse.reshape(-1))],
                               classes=classes, name=name)
    if y.ndim > 1 and int(np.prod(y.shape[1:])) == 0:
        raise ValueError(f"{name}: expected regression targets y (N,) or (N, k) with k >= 1; got "
                         f"shape {y.shape}")
    return SequenceDataset(sequences, torch.as_tensor(y, dtype=torch.float64), name=name)


def _member(arrays: np.lib.npyio.NpzFile, key: str) -> str:
    """The archive member that holds array ``key``."""
    return key if key in arrays.zip.namelist() else key + ".npy"


def _mapped(path: Path, member: zipfile.ZipInfo) -> np.ndarray | None:
    """The member's array mapped from the file, copy-on-write (pages are read when used, the
    file is never written), where it is stored uncompressed (``np.savez``) with a header
    numpy's public readers take and a plain dtype; else None (it is loaded whole)."""
    if member.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(member.header_offset)
        local = handle.read(30)  # the member's local header: its name and extra field follow
        if len(local) < 30 or local[:4] != b"PK\x03\x04":
            return None
        name, extra = struct.unpack("<HH", local[26:30])
        handle.seek(member.header_offset + 30 + name + extra)
        try:
            version = np.lib.format.read_magic(handle)  # type: ignore[no-untyped-call]
            read = {(1, 0): np.lib.format.read_array_header_1_0,
                    (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read is None:
                return None
            shape, fortran, dtype = read(handle)  # type: ignore[no-untyped-call]
        except ValueError:
            return None
        offset = handle.tell()
    if dtype.hasobject or not shape or math.prod(shape) == 0:
        return None
    return np.memmap(path, dtype=dtype, mode="c", offset=offset, shape=shape,
                     order="F" if fortran else "C")


def _native(name: str, key: str, array: np.ndarray) -> np.ndarray:
    """``array`` as numbers torch reads: real (complex, dates, raw bytes are errors), in this
    machine's byte order, extended floats as float64 (an error where one does not fit), wide
    unsigned integers as int64 (past 2**63: float64 values, and labels ``y`` as their text)."""
    kind = array.dtype.kind
    labels = " or labels" if key == "y" else ""
    if kind == "c":
        raise ValueError(f"{name}: expected real numbers in {key}; got complex values (dtype "
                         f"{array.dtype}): pass the real part, or real and imaginary parts as "
                         "two channels")
    if kind not in "fiubUS":
        raise ValueError(f"{name}: expected numbers{labels} in {key}; got dtype {array.dtype}")
    if kind == "f" and array.dtype.itemsize > 8:
        with np.errstate(over="ignore"):
            wide = array.astype(np.float64)
        if (np.isinf(wide) & ~np.isinf(array)).any():
            raise ValueError(f"{name}: expected values within float64's range (about 1.8e308) "
                             f"in {key}; got {array[np.isinf(wide) & ~np.isinf(array)][0]}")
        return wide
    if kind == "u" and array.dtype.itemsize > 1:
        if array.max(initial=0) < 2**63:
            return array.astype(np.int64)
        # past int64: labels stay the integers they are (as text), values become float64
        return array.astype(str) if key == "y" else array.astype(np.float64)
    return array if array.dtype.isnative else array.astype(array.dtype.newbyteorder("="))


def _check_values(name: str, x: np.ndarray, y: np.ndarray) -> None:
    """Numbers only; NaN in X is a missing value, infinities anywhere and NaN in float
    targets are errors naming the first sample that has one."""
    if x.dtype.kind not in "fiub":
        raise ValueError(f"{name}: expected numbers in X; got dtype {x.dtype}")
    rows = max(1, 2**24 // max(1, math.prod(x.shape[1:])))  # a block of X at a time
    for start in range(0, len(x), rows) if x.dtype.kind == "f" else ():
        infinite = np.isinf(x[start:start + rows])
        if infinite.any():
            where = np.argwhere(infinite)[0]
            where[0] += start
            raise ValueError(f"{name}: expected finite values in X (NaN for a missing value); "
                             f"got {x[tuple(where)]} at X{where.tolist()}")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        sample = int(np.argwhere(~np.isfinite(y))[0][0])
        raise ValueError(f"{name}: expected finite targets y; got {y[sample]} for sample "
                         f"{sample}")


def save_npz(dataset: SequenceDataset, path: str | Path) -> None:
    """Write ``dataset`` in the ragged layout (X, lengths, y; class names and their order)."""
    x, lengths = torch.cat(dataset.sequences).numpy(), dataset.lengths.numpy()
    if dataset.classes is None:
        np.savez(path, X=x, lengths=lengths, y=dataset.targets.numpy())
        return
    labels = np.array([dataset.classes[int(i)] for i in dataset.targets])
    np.savez(path, X=x, lengths=lengths, y=labels, classes=np.array(dataset.classes))
