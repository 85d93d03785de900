"""Deploy: a model or a trained run as ONNX or torch.export (.pt2), with dynamic batch and time,
checked against eager before success is reported.

``export(model, args, path)`` exports any timedist layer or model called as ``model(x)`` or
``model(x, lengths=...)``: B and T of x (and B of lengths) stay symbolic, so one file serves
every batch size and length. ``export_run(run_dir, path)`` exports a trained run with its
preprocessing inside the graph (``deploy/deployed.py``); ``streaming=True`` exports the one-step
model ``(x_t, *state) -> (y_t, *state)`` instead. Every export is run at two new shapes (ONNX
in onnxruntime, .pt2 as the exported module) and compared with eager; a mismatch is an
ExportError and no file is left behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch
from torch import Tensor, nn
from torch.utils import _pytree as pytree

from .deployed import weights_hash  # (its home: checking a run's ONNX file)

__all__ = ["FORMATS", "ExportError", "ExportReport", "export", "export_run", "weights_hash"]

FORMATS = {".onnx": "onnx", ".pt2": "pt2"}
ONNX_PACKAGES = ("onnx", "onnxscript", "onnxruntime")  # the export extra: write, then check
ATOL = 1e-5


class ExportError(ValueError):
    """An export that failed, or whose graph disagrees with eager (one line, named file)."""


@dataclass
class ExportReport:
    """What was written: the file, its format, input and output names, the largest difference
    from eager at each checked input shape, and the seconds taken."""

    path: Path
    format: str
    inputs: list[str]
    outputs: list[str]
    checks: list[tuple[tuple[int, ...], float]] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        """One line: the file written, its inputs, the largest difference from eager per shape."""
        checks = ", ".join(f"x {tuple(s)}: {e:.1e}" for s, e in self.checks)
        return (f"wrote {self.path} ({self.format}, inputs {', '.join(self.inputs)}; "
                f"max |graph - eager| {checks}) in {self.seconds:.1f} s")


class _Call(nn.Module):
    """model(x) or model(x, lengths=lengths), so that the graph's inputs are named x, lengths."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Any:
        return self.model(x) if lengths is None else self.model(x, lengths=lengths)


class _Step(nn.Module):
    """``model.step`` with flat tensors: (x_t, *state) -> (y_t, *state) (state as returned)."""

    def __init__(self, model: nn.Module, spec: pytree.TreeSpec) -> None:
        super().__init__()
        self.model = model
        self.spec = spec

    def forward(self, x: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        step: Any = getattr(self.model, "step")  # noqa: B009
        y, new = step(x, pytree.tree_unflatten(list(state), self.spec))
        return (y, *pytree.tree_leaves(new))


def export(model: nn.Module, example_inputs: Tensor | tuple[Tensor, ...], path: str | Path, *,
           check: bool = True, overwrite: bool = False,
           metadata: dict[str, Any] | None = None,
           save: Callable[[Callable[[IO[bytes]], Any]], Any] | None = None) -> ExportReport:
    """Export ``model`` (called as ``model(x)`` or ``model(x, lengths=lengths)``) to ``path``.

    Args:
        example_inputs: x, ``(x,)`` or ``(x, lengths)``: x (B, T, ...) ((T, B, ...) for a layer
            with ``batch_first=False``), lengths (B,) to export the masked model (the graph
            then takes lengths too). B and T stay dynamic (T in multiples of n for
            ``CNNLSTM(subsequences=n)``).
        path: ``*.onnx`` (ONNX, torch's dynamo exporter) or ``*.pt2`` (``torch.export.save``).
        check: run the graph at two other (B, T) and compare with eager (<= 1e-5, relative to
            the outputs' scale); a mismatch raises ExportError and writes nothing.
        overwrite: replace an existing file (else FileExistsError).
        metadata: strings stored in an ONNX file's metadata (e.g. class names).
        save: how the file's bytes are written (given a function that writes them to a
            binary handle); default: atomically to ``path``.

    Returns an :class:`ExportReport`. The file is written atomically.

    >>> import tempfile, torch, timedist
    >>> folder = tempfile.mkdtemp()
    >>> report = timedist.export(timedist.GRU(3, 4), (torch.randn(2, 5, 3), torch.tensor([5, 2])),
    ...                          folder + "/gru.onnx")
    >>> report.inputs, report.outputs
    (['x', 'lengths'], ['output'])
    """
    path = _target(path, overwrite)
    inputs = example_inputs if isinstance(example_inputs, tuple) else (example_inputs,)
    if not 1 <= len(inputs) <= 2 or not all(isinstance(t, Tensor) for t in inputs):
        raise ExportError(f"{path.name}: expected example_inputs x or (x, lengths) as tensors; "
                          f"got {type(example_inputs).__name__}")
    x, lengths = inputs[0], (inputs[1] if len(inputs) == 2 else None)
    time_major = not getattr(model, "batch_first", True)
    x, lengths = _at_least_two(x, lengths, time_major)
    wrapped = _Call(model).eval()
    args = (x,) if lengths is None else (x, lengths)
    multiple = int(getattr(model, "subsequences", 0) or 1)
    started = time.perf_counter()
    names = ["x", "lengths"][: len(args)]
    try:
        writer, run = _export_graph(wrapped, args, _dynamic_shapes(len(args), time_major,
                                                                   multiple), path, metadata,
                                    names)
    except ExportError as error:
        if "Constraints violated (time)" not in str(error):
            raise
        writer, run = _export_graph(wrapped, args, _dynamic_shapes(
            len(args), time_major, multiple, least=True), path, metadata, names)
    report = ExportReport(path, FORMATS[path.suffix], names, [])
    if check:
        for shape in _check_shapes(x, time_major, multiple):
            new = _like(x, lengths, shape, time_major)
            with torch.no_grad():
                got, want = _run_graph(run, new, path), wrapped(*new)
            report.checks.append((tuple(new[0].shape), _compare(got, want, path)))
    _write(path, writer, save, overwrite)
    report.seconds = time.perf_counter() - started
    report.inputs, report.outputs = _names(run, "inputs", report.inputs), _names(
        run, "outputs", ["output"])
    return report


def export_run(run_dir: str | Path, path: str | Path | None = None, *, streaming: bool = False,
               check: bool = True, overwrite: bool = False, unfinished: bool = False
               ) -> ExportReport:
    """Export a trained run's best model with its preprocessing (raw x — float64 for signals —
    and lengths in, probabilities or values in the data's units out) to ``path`` (default
    ``RUN_DIR/model.onnx``, or ``model-step.onnx`` with ``streaming``); class names, the task
    and the run's fingerprint go into the ONNX metadata. An existing file is replaced only with
    ``overwrite``; never a file of a run other than its export files; ``unfinished`` allows a
    run that has not finished."""
    from ..runs.rundir import RunDir, layout_file, run_file_reason

    run = RunDir(Path(run_dir))
    target = run.exported("onnx", streaming=streaming) if path is None else Path(path)
    inside = run.relative(target)
    if inside is not None and layout_file(inside) and inside.suffix in FORMATS:
        with run.session() as session:  # the run's own export file: written through the run
            session.check_writable(inside, overwrite=overwrite)

            def save(writer: Any) -> None:
                session.write(inside, writer, overwrite=overwrite)

            return _export_run(run, target, streaming, check, unfinished, save, True)
    target = _target(target, overwrite)
    reason = run_file_reason(target)
    if reason:
        raise ExportError(f"{target}: {reason}; choose another file")
    with run.reading():
        return _export_run(run, target, streaming, check, unfinished, None, overwrite)


def _export_run(run: Any, path: Path, streaming: bool, check: bool, unfinished: bool,
                save: Any, overwrite: bool) -> ExportReport:
    from .deployed import deployed_run, run_metadata

    model, record, shape, identity = deployed_run(run.path, unfinished=unfinished)
    metadata = run_metadata(record, identity)
    gen = torch.Generator().manual_seed(0)
    dtype = model.input_dtype
    if streaming:
        x = torch.randn(shape[0], *shape[2:], generator=gen, dtype=dtype)
        return export_step(model, x, path, check=check, overwrite=overwrite,
                           metadata=metadata, save=save)
    steps = shape[1]
    lengths = torch.tensor([steps, max(1, steps // 2)])
    return export(model, (torch.randn(*shape, generator=gen, dtype=dtype), lengths), path,
                  check=check, overwrite=overwrite, metadata=metadata, save=save)


def export_step(model: nn.Module, x: Tensor, path: str | Path, *, check: bool = True,
                overwrite: bool = False, metadata: dict[str, Any] | None = None,
                save: Callable[[Callable[[IO[bytes]], Any]], Any] | None = None
                ) -> ExportReport:
    """Export ``model.step`` for streaming: inputs ``x`` (x_t (B, *step)) and the state tensors
    ``state_0``, ...; outputs ``y`` (y_t) and ``next_state_0``, ... to feed back; zeros are
    the initial state. B is dynamic. ``check`` streams 5 steps through the graph and compares
    with eager."""
    path = _target(path, overwrite)
    if not callable(getattr(model, "step", None)):
        raise ExportError(f"{path.name}: expected a model with step() for streaming (a "
                          f"recurrent layer or model); got {type(model).__name__}")
    model.eval()
    model_step: Any = getattr(model, "step")  # noqa: B009
    with torch.no_grad():
        _, state = model_step(x)
    leaves, spec = pytree.tree_flatten(state)
    step = _Step(model, spec).eval()
    batch = torch.export.Dim("batch", min=1)
    other = torch.cat([x, x[:1]])  # B + 1: which dim of each state is the batch
    with torch.no_grad():
        grown = pytree.tree_leaves(model_step(other)[1])
    state_dims = [{_batch_dim(a, b): batch} for a, b in zip(leaves, grown, strict=True)]
    dynamic = ({0: batch}, tuple(state_dims))  # forward(x, *state): state is one tuple
    started = time.perf_counter()
    names = ["x"] + [f"state_{i}" for i in range(len(leaves))]
    writer, run = _export_graph(step, (x, *leaves), dynamic, path, metadata, names)
    report = ExportReport(path, FORMATS[path.suffix], names, [])
    if check:
        frames = (torch.randn(5, x.shape[0] + 2, *x.shape[1:]) * x.std() + x.mean()).to(x.dtype)
        zeros = [torch.zeros(_grow(leaf.shape, dims, x.shape[0] + 2)) for leaf, dims
                 in zip(leaves, state_dims, strict=True)]
        got_state, want_state, error = zeros, zeros, 0.0
        for frame in frames:
            with torch.no_grad():
                got = _run_graph(run, (frame, *got_state), path)
                want = step(frame, *want_state)
            error = max(error, _compare(got, want, path))
            got_state, want_state = list(got[1:]), list(want[1:])
        report.checks.append((tuple(frames.shape[1:]), error))
    _write(path, writer, save, overwrite)
    report.seconds = time.perf_counter() - started
    report.inputs, report.outputs = _names(run, "inputs", report.inputs), _names(
        run, "outputs", ["y", *(f"next_state_{i}" for i in range(len(leaves)))])
    return report


# -- helpers -----------------------------------------------------------------------------------


def _target(path: str | Path, overwrite: bool) -> Path:
    """The file to write (a link's target), by the rule for output files (``_atomic``)."""
    from .._atomic import check_output

    if Path(path).suffix not in FORMATS:
        raise ExportError(f"{Path(path).name}: expected a file ending in "
                          f"{' or '.join(FORMATS)}")
    missing = [m for m in ONNX_PACKAGES if importlib.util.find_spec(m) is None]
    if Path(path).suffix == ".onnx" and missing:
        raise ExportError(f"{Path(path).name}: ONNX export needs the export extra: pip install "
                          f"'timedist[export]' (missing: {', '.join(missing)}); a .pt2 file "
                          "(--format pt2: torch.export) needs nothing more")
    return check_output(path, overwrite=overwrite, flag="", how="overwrite=True (--overwrite)")


def _dynamic_shapes(count: int, time_major: bool, multiple: int, least: bool = False
                    ) -> tuple[dict[int, Any], ...]:
    """B and T of x and B of lengths, dynamic from 1 — or, with ``least``, T from the least
    length the model accepts (torch.export finds it: rocket's difference series needs 3)."""
    batch = torch.export.Dim("batch", min=1)
    steps: Any = torch.export.Dim.DYNAMIC if least else torch.export.Dim("time", min=1)
    time_dim: Any = steps * multiple if multiple > 1 and not least else steps
    x = {1: batch, 0: time_dim} if time_major else {0: batch, 1: time_dim}
    return (x, {0: batch}) if count > 1 else (x,)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch.onnx's progress lines and registration warnings (torchvision ops) are noise here."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _export_graph(module: nn.Module, args: tuple[Tensor, ...], dynamic: tuple[Any, ...],
                  path: Path, metadata: dict[str, Any] | None, names: list[str]
                  ) -> tuple[Any, Any]:
    """(a writer of the file's bytes, a runner of the graph on tensors). ``names``: the graph's
    input names; outputs are named ``output`` (``output_<i>`` if several) or, for a step
    graph (inputs ``state_<i>``), ``y`` and ``next_state_<i>``."""
    with torch.no_grad():
        count = len([t for t in pytree.tree_leaves(module(*args)) if isinstance(t, Tensor)])
    if len(names) > 2:  # a step graph
        outputs = ["y", *(f"next_{n}" for n in names[1:])]
    else:
        outputs = ["output"] if count == 1 else [f"output_{i}" for i in range(count)]
    try:
        with _quiet(), torch.no_grad():
            program = torch.export.export(module, args, dynamic_shapes=dynamic)
            if path.suffix == ".pt2":
                runner = program.module()

                def write_pt2(handle: Any) -> None:
                    torch.export.save(program, handle)

                return write_pt2, lambda *a: runner(*a)
            onnx = torch.onnx.export(program, args, dynamo=True, verbose=False,
                                     input_names=names, output_names=outputs)
    except Exception as error:  # torch's exporters raise many kinds; one line, the cause
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(f"{path.name}: export failed: {first}") from error
    assert onnx is not None  # dynamo=True always returns a program
    proto = onnx.model_proto
    for key, value in {**(metadata or {}), "timedist.weights": weights_hash(proto)}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, str(value)
    data = proto.SerializeToString()
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]

    def run(*tensors: Tensor) -> list[Tensor]:
        feed = {n: t.numpy() for n, t in zip(names, tensors, strict=True)}
        return [torch.from_numpy(o) for o in session.run(None, feed)]

    run.inputs = names  # type: ignore[attr-defined]
    run.outputs = [o.name for o in session.get_outputs()]  # type: ignore[attr-defined]
    return (lambda handle: handle.write(data)), run


def _names(run: Any, kind: str, default: list[str]) -> list[str]:
    """The graph's input or output names (ONNX's own; the argument names for .pt2)."""
    return list(getattr(run, kind, default))


def _write(path: Path, writer: Any, save: Any, overwrite: bool) -> None:
    """Write through ``save`` (a run's session) or atomically, replacing a file that appeared
    meanwhile only with ``overwrite``."""
    from .._atomic import atomic_write

    if save is not None:
        save(writer)
    else:
        atomic_write(path, writer, replace=overwrite)


def _at_least_two(x: Tensor, lengths: Tensor | None, time_major: bool
                  ) -> tuple[Tensor, Tensor | None]:
    """The example with B >= 2 (its sample repeated): torch.export fixes a dim whose example size
    is 1 (it cannot tell a broadcast from a batch of one)."""
    batch_dim = 1 if time_major else 0
    if x.shape[batch_dim] == 1:
        x = torch.cat([x, x], batch_dim)
        lengths = None if lengths is None else torch.cat([lengths, lengths])
    return x, lengths


def _check_shapes(x: Tensor, time_major: bool, multiple: int) -> list[tuple[int, int]]:
    """Two (B, T) unlike the example's: larger, and a single short sequence."""
    batch, steps = (x.shape[1], x.shape[0]) if time_major else (x.shape[0], x.shape[1])
    longer = steps + 3 * multiple
    shorter = max(multiple, steps - 2 * multiple) if steps > multiple else steps
    return [(batch + 2, longer), (1, shorter)]


def _like(x: Tensor, lengths: Tensor | None, shape: tuple[int, int], time_major: bool
          ) -> tuple[Tensor, ...]:
    """Random inputs of (B, T) = ``shape`` on the example's scale; lengths in [1, T] with NaN in
    the padding (the graph's valid results must ignore it)."""
    batch, steps = shape
    gen = torch.Generator().manual_seed(batch * 1000 + steps)
    finite = torch.nan_to_num(x.float())
    new = torch.randn(batch, steps, *x.shape[2:], generator=gen) * finite.std() + finite.mean()
    new = new.to(x.dtype)
    if lengths is None:
        return (new.transpose(0, 1) if time_major else new,)
    valid = torch.randint(1, steps + 1, (batch,), generator=gen)
    valid[0] = steps
    keep = torch.arange(steps) < valid.unsqueeze(1)
    new = torch.where(keep.view(batch, steps, *[1] * (new.dim() - 2)), new, torch.nan)
    return (new.transpose(0, 1) if time_major else new), valid.to(lengths.dtype)


def _run_graph(run: Any, args: tuple[Tensor, ...], path: Path) -> Any:
    """The exported graph on ``args``; a failure is an ExportError naming the input shape (a
    graph that fixed a size it should not have: nothing is written)."""
    try:
        return run(*args)
    except Exception as error:  # onnxruntime and torch raise many kinds
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ExportError(f"{path.name}: the exported graph fails at input shape "
                          f"{tuple(args[0].shape)} ({first[:300]}); not written") from error


def _compare(got: Any, want: Any, path: Path) -> float:
    """The largest |graph - eager| (ExportError above ATOL relative to the outputs' scale)."""
    got_leaves = [t for t in pytree.tree_leaves(got) if isinstance(t, Tensor)]
    want_leaves = [t for t in pytree.tree_leaves(want) if isinstance(t, Tensor)]
    worst = 0.0
    for g, w in zip(got_leaves, want_leaves, strict=True):
        if g.shape != w.shape:
            raise ExportError(f"{path.name}: the graph's output has shape {tuple(g.shape)}; "
                              f"eager gives {tuple(w.shape)}")
        error = float((g.double() - w.double()).abs().max()) if w.numel() else 0.0
        scale = float(w.double().abs().max()) if w.numel() else 0.0
        if not error <= ATOL * max(1.0, scale):
            raise ExportError(f"{path.name}: the exported graph differs from eager by {error:.3g}"
                              f" (allowed {ATOL:g}) at input shape {tuple(w.shape)}; not written")
        worst = max(worst, error)
    return worst


def _batch_dim(small: Tensor, large: Tensor) -> int:
    """The dim in which a state grew with the batch."""
    return next(d for d in range(small.dim()) if small.shape[d] != large.shape[d])


def _grow(shape: torch.Size, dims: dict[int, Any], batch: int) -> tuple[int, ...]:
    (dim,) = dims
    return tuple(batch if d == dim else n for d, n in enumerate(shape))
