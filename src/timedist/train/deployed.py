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

from ..data import Samples, pad_collate
from ..masking import lengths_to_mask
from .record import RunRecord, load_best, stored_run

__all__ = ["Deployed", "deployed_run", "onnx_predictions", "run_metadata"]


class Deployed(nn.Module):
    """``model`` with a run's preprocessing and output mapping.

    Shape: x (B, T, *step) raw (NaN = missing), lengths (B,) ints in [1, T] -> probabilities
    (B, K) (classification), values (B, outputs) in the data's units (regression) or frames
    (B, horizon, C, H, W).
    """

    def __init__(self, model: nn.Module, record: RunRecord) -> None:
        super().__init__()
        self.model = model
        self.task = record.task
        self.series = record.normalize == "series"
        scale = record.standardization if record.normalize != "none" else None
        step = tuple(record.spec.step_shape)
        ones = (step[0], *[1] * (len(step) - 1))
        self.register_buffer("mean", torch.zeros(ones) if scale is None else scale.mean.clone())
        self.register_buffer("std", torch.ones(ones) if scale is None else scale.std.clone())
        target = record.target_scale
        self.register_buffer("target_mean", torch.zeros(()) if target is None
                             else target.mean.flatten().clone())
        self.register_buffer("target_std", torch.ones(()) if target is None
                             else target.std.flatten().clone())

    mean: Tensor
    std: Tensor
    target_mean: Tensor
    target_std: Tensor

    def normalize(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """x (B, T, *step) raw -> what the model was trained on (padding and NaN -> 0)."""
        keep = None
        if lengths is not None:
            keep = lengths_to_mask(lengths, x.shape[1]).view(*x.shape[:2], *[1] * (x.dim() - 2))
        if self.series:  # each series by its own valid, present values, per channel
            present = ~torch.isnan(x) if keep is None else keep & ~torch.isnan(x)
            count = present.sum(1, keepdim=True).clamp_min(1)
            mean = torch.where(present, x, 0.0).sum(1, keepdim=True) / count
            var = torch.where(present, (x - mean) ** 2, 0.0).sum(1, keepdim=True) / count
            x = (x - mean) / var.sqrt().clamp_min(1e-8)
        x = (x - self.mean) / self.std
        x = torch.where(torch.isnan(x), 0.0, x)
        return x if keep is None else torch.where(keep, x, 0.0)

    def finish(self, out: Tensor) -> Tensor:
        """Model outputs -> probabilities (classification) or the data's units (regression)."""
        if self.task == "classification":
            return out.softmax(-1)
        if self.task == "regression":
            return out * self.target_std + self.target_mean
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
        x = (x - self.mean) / self.std
        out, state = step(torch.where(torch.isnan(x), 0.0, x), state)
        return self.finish(out), state


def deployed_run(run_dir: str | Path) -> tuple[Deployed, RunRecord, tuple[int, ...]]:
    """A run's best model wrapped in its preprocessing (eval mode), its record, and the
    shape of a typical input (2, T_max of training, *step)."""
    from .prepare import build_model

    config, record = stored_run(run_dir)
    model = build_model(config, record.spec)
    load_best(model, run_dir)
    shape = (2, max(record.spec.length, 1), *record.spec.step_shape)
    return Deployed(model, record).eval(), record, shape


def run_metadata(record: RunRecord) -> dict[str, str]:
    """What an exported run's ONNX file carries about its run (task, class names in index
    order, one step's shape), and what ``onnx_predictions`` checks a file against."""
    return {"timedist.task": record.task, "timedist.classes": json.dumps(record.classes),
            "timedist.step_shape": json.dumps(list(record.spec.step_shape))}


def onnx_predictions(path: str | Path, data: Samples, record: RunRecord,
                     batch_size: int = 256) -> Tensor:
    """Run a run's exported ONNX file (``timedist export``) on raw ``data`` in onnxruntime.

    Returns what the graph returns for each sample, in order: probabilities (N, K), values
    (N, outputs) or frames. The file's metadata must match the run (task, classes, step
    shape): a file of another run is one error naming both.
    """
    import numpy as np
    import onnxruntime

    path = Path(path)
    if path.suffix != ".onnx" or not path.is_file():
        raise ValueError(f"{path}: expected an .onnx file written by timedist export")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = session.get_modelmeta().custom_metadata_map
    for key, value in run_metadata(record).items():
        if meta.get(key) != value:
            raise ValueError(f"{path}: exported from another run ({key} is "
                             f"{meta.get(key)!r}; this run's is {value!r})")
    names = [i.name for i in session.get_inputs()]
    if names[:1] != ["x"] or len(names) > 2:
        raise ValueError(f"{path}: expected inputs x[, lengths] (a whole-sequence export, not "
                         f"--streaming); got {', '.join(names)}")
    outputs = []
    for start in range(0, len(data), batch_size):
        x, lengths, _ = pad_collate([data[i] for i in range(start, min(len(data),
                                                                       start + batch_size))])
        feed = {"x": x.numpy().astype(np.float32)}
        if len(names) == 2:
            feed["lengths"] = lengths.numpy().astype(np.int64)
        outputs.append(torch.from_numpy(session.run(None, feed)[0]))
    return torch.cat(outputs)
