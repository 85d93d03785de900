"""A trained run as one module: raw inputs in, predictions out, its preprocessing inside.

``Deployed`` holds what ``timedist predict`` does around the model — the stored input
normalization (per channel, or per series over its valid steps), missing values to 0, the
softmax over classes or the target scale of a regression — so that an exported graph needs no
timedist, no torch and no sidecar file: onnxruntime and numpy run it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..data import Samples, Task, pad_collate, safe_std
from ..masking import lengths_to_mask
from ..runs.record import RunRecord, load_best, run_fingerprint, stored_run
from ..runs.rundir import RunDir, read_checkpoint

__all__ = ["Deployed", "deployed_run", "onnx_predictions", "run_metadata", "weights_hash"]


class Deployed(nn.Module):
    """``model`` with a run's preprocessing and output mapping.

    Shape: x (B, T, *step) raw (NaN = missing), lengths (B,) ints in [1, T] -> probabilities
    (B, K) (classification), values (B, outputs) in the data's units (regression) or frames
    (B, horizon, C, H, W). Signals come in as float64 (raw values keep their precision: an
    offset of 1e8 is exact) and are standardized in float64 before the model's float32;
    regression values come out in float64. Image sequences (pixels in [0, 1]) stay float32.
    """

    def __init__(self, model: nn.Module, record: RunRecord) -> None:
        super().__init__()
        self.model = model
        self.task = record.task
        self.series = record.normalize == "series"
        scale = record.standardization if record.normalize != "none" else None
        step = tuple(record.spec.step_shape)
        self.input_dtype = torch.float64 if len(step) == 1 else torch.float32
        ones = (step[0], *[1] * (len(step) - 1))
        f64 = torch.float64
        self.register_buffer("mean", torch.zeros(ones, dtype=f64) if scale is None
                             else scale.mean.to(f64).reshape(ones).clone())
        self.register_buffer("std", torch.ones(ones, dtype=f64) if scale is None
                             else scale.std.to(f64).reshape(ones).clone())
        target = record.target_scale
        self.register_buffer("target_mean", torch.zeros((), dtype=f64) if target is None
                             else target.mean.to(f64).flatten().clone())
        self.register_buffer("target_std", torch.ones((), dtype=f64) if target is None
                             else target.std.to(f64).flatten().clone())

    mean: Tensor
    std: Tensor
    target_mean: Tensor
    target_std: Tensor

    def normalize(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """x (B, T, *step) raw -> what the model was trained on, float32 (padding and NaN ->
        0); computed in float64."""
        x = x.double()
        keep = None
        if lengths is not None:
            keep = lengths_to_mask(lengths, x.shape[1]).view(*x.shape[:2], *[1] * (x.dim() - 2))
        if self.series:  # each series by its own valid, present values, per channel
            present = ~torch.isnan(x) if keep is None else keep & ~torch.isnan(x)
            count = present.sum(1, keepdim=True).clamp_min(1)
            top = torch.where(present, x.abs(), 0.0).amax(1, keepdim=True)
            top = torch.where(top > 0, top, 1.0)  # divided first: 1e300 squared overflows
            unit = x / top
            mean = torch.where(present, unit, 0.0).sum(1, keepdim=True) / count
            var = torch.where(present, (unit - mean) ** 2, 0.0).sum(1, keepdim=True) / count
            x = (unit - mean) / safe_std(var.sqrt(), mean)
        x = (x - self.mean) / self.std
        x = torch.where(torch.isnan(x), 0.0, x)
        x = x if keep is None else torch.where(keep, x, 0.0)
        return x.float()

    def finish(self, out: Tensor) -> Tensor:
        """Model outputs -> probabilities (classification) or the data's units (regression)."""
        if self.task is Task.CLASSIFICATION:
            return out.softmax(-1)
        if self.task is Task.REGRESSION:
            return out.double() * self.target_std + self.target_mean
        return out

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        x = self.normalize(x, lengths)
        out = self.model(x) if lengths is None else self.model(x, lengths=lengths)
        return self.finish(out)

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """Streaming: one raw step x_t (B, *step) -> (predictions for the sequence so far,
        state). Not for runs normalized per series (that needs the whole series)."""
        if self.series:
            raise ValueError("expected a run normalized per channel or not at all for "
                             "streaming; got normalize='series' (it needs the whole series)")
        step = getattr(self.model, "step", None)
        if step is None:
            raise ValueError(f"expected a recurrent model for streaming; got "
                             f"{type(self.model).__name__}, which reads the whole sequence")
        x = (x.double() - self.mean[None]) / self.std[None]
        out, state = step(torch.where(torch.isnan(x), 0.0, x).float(), state)
        return self.finish(out), state


def deployed_run(run_dir: str | Path, *, unfinished: bool = False
                 ) -> tuple[Deployed, RunRecord, tuple[int, ...], str]:
    """A run's best model wrapped in its preprocessing (eval mode), its record, the shape of
    a typical input (2, T_max of training, *step), and the run's fingerprint (weights and
    preprocessing: :func:`~timedist.runs.record.run_fingerprint`)."""
    from ..runs.prepare import build_model

    config, record = stored_run(run_dir, unfinished=unfinished)
    model = build_model(config, record.spec)
    best = load_best(model, run_dir)
    shape = (2, max(record.spec.length, 1), *record.spec.step_shape)
    identity = run_fingerprint(read_checkpoint(best)["state_dict"], record)
    return Deployed(model, record).eval(), record, shape, identity


def run_metadata(record: RunRecord, identity: str) -> dict[str, str]:
    """What an exported run's ONNX file carries about its run (task, class names in index
    order, one step's shape, the run's fingerprint), and what ``onnx_predictions`` checks a
    file against."""
    return {"timedist.task": record.task, "timedist.classes": json.dumps(record.classes),
            "timedist.step_shape": json.dumps(list(record.spec.step_shape)),
            "timedist.fingerprint": identity}


def onnx_predictions(path: str | Path, data: Samples, record: RunRecord, run_dir: str | Path,
                     batch_size: int = 256) -> Tensor:
    """Run a run's exported ONNX file (``timedist export``) on raw ``data`` in onnxruntime.

    Returns what the graph returns for each sample, in order: probabilities (N, K), values
    (N, outputs) or frames. The file must be this run's as it is now: its metadata carries the
    run's fingerprint (weights and preprocessing), so a file of another run — even one of the
    same shapes — or one exported before the run was trained further is one error.
    """
    import numpy as np
    import onnxruntime

    path = Path(path)
    if path.suffix != ".onnx" or not path.is_file():
        raise ValueError(f"{path}: expected an .onnx file written by timedist export")
    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime's own exception types: one line, the cause
        reason = " ".join(str(error).split())[:200]
        raise ValueError(f"{path}: not a readable ONNX model ({reason})") from None
    meta = session.get_modelmeta().custom_metadata_map
    best = RunDir(Path(run_dir)).best
    expected = run_metadata(record, run_fingerprint(read_checkpoint(best)["state_dict"], record))
    for key, value in expected.items():
        if meta.get(key) != value:
            if key == "timedist.fingerprint" and meta.get(key):
                why = ("exported from another run, or from this run before its best checkpoint "
                       "changed (a resume, a new fit): export it again")
            elif key == "timedist.fingerprint":
                why = "exported without a run fingerprint (an older timedist): export it again"
            else:
                why = f"exported from another run ({key} is {meta.get(key)!r}; this run's is " \
                      f"{value!r})"
            raise ValueError(f"{path}: {why}")
    import onnx

    if weights_hash(onnx.load(str(path))) != meta.get("timedist.weights"):
        raise ValueError(f"{path}: its weights were changed after timedist export wrote it "
                         "(they no longer match the hash in its metadata): export it again")
    names = [i.name for i in session.get_inputs()]
    if names[:1] != ["x"] or len(names) > 2:
        raise ValueError(f"{path}: expected inputs x[, lengths] (a whole-sequence export, not "
                         f"--streaming); got {', '.join(names)}")
    dtype = np.float64 if session.get_inputs()[0].type == "tensor(double)" else np.float32
    outputs = []
    for start in range(0, len(data), batch_size):
        indices = range(start, min(len(data), start + batch_size))
        x, lengths, _ = pad_collate([_raw(data, i) for i in indices])
        feed = {"x": x.numpy().astype(dtype)}
        if len(names) == 2:
            feed["lengths"] = lengths.numpy().astype(np.int64)
        outputs.append(torch.from_numpy(session.run(None, feed)[0]))
    return torch.cat(outputs)


def _raw(data: Samples, index: int) -> tuple[Tensor, Tensor]:
    """Sample ``index`` as the deployed graph takes it: raw values as stored (float64 signals
    keep their precision), clips as sampled."""
    if hasattr(data, "sequences") and data.standardization is None:
        return data.sequences[index], data.targets[index]
    return data[index]


def weights_hash(proto: Any) -> str:
    """The SHA-256 (32 hex digits) of an ONNX model's weights (every initializer: name, type,
    shape, values), stored in the file's metadata as ``timedist.weights`` so that a file whose
    weights were edited afterwards is recognised."""
    import hashlib

    from onnx import numpy_helper

    digest = hashlib.sha256()
    for tensor in sorted(proto.graph.initializer, key=lambda t: t.name):
        values = numpy_helper.to_array(tensor)
        digest.update(f"{tensor.name}|{values.dtype}|{values.shape}|".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()[:32]
