"""The PNG figures of a run: learning curves, confusion matrix, predicted vs true, frames.

Every function takes plain tensors/rows and returns the PNG's bytes; the caller writes them
(into a run through its :class:`~timedist.runs.rundir.RunSession`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import torch
from torch import Tensor

__all__ = ["confusion_matrix", "forecast_frames", "frame_strip", "learning_curves",
           "predicted_vs_true"]


def _names(classes: Sequence[str], most: int = 24) -> list[str]:
    """Class names as a figure shows them: at most ``most`` characters (a long name would
    make the figure huge and slow to lay out)."""
    return [c if len(c) <= most else c[: most - 3] + "..." for c in classes]


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def learning_curves(rows: Sequence[dict[str, str]]) -> bytes:
    """Loss per epoch (train, val) and the validation metric, from metrics.csv rows."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = [int(r["epoch"]) + 1 for r in rows]

    def series(key: str) -> list[float]:
        return [float(r[key]) if r.get(key) else float("nan") for r in rows]

    colors = {"train": "tab:blue", "val": "tab:orange"}  # the same on both panels
    for ax, names in ((axes[0], ("loss",)), (axes[1], ("accuracy", "mae"))):
        for split in colors:
            for key in (f"{split}_{name}" for name in names):
                if any(r.get(key) for r in rows):
                    ax.plot(epochs, series(key), marker="o", color=colors[split],
                            label=key.replace("_", " "))
    axes[0].set(xlabel="epoch", ylabel="loss", title="loss")
    axes[0].legend()
    axes[1].set(xlabel="epoch", title="metric")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    return _png(fig)


def confusion_matrix(true: Tensor, pred: Tensor, classes: Sequence[str]) -> bytes:
    """Counts of (true class, predicted class); rows are true classes."""
    k, classes = len(classes), _names(classes)
    counts = torch.bincount(true * k + pred, minlength=k * k).view(k, k)
    size = max(4.0, 0.28 * k + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    image = ax.imshow(counts.numpy(), cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046)
    ax.set_xticks(range(k), classes, rotation=90, fontsize=7 if k > 12 else 9)
    ax.set_yticks(range(k), classes, fontsize=7 if k > 12 else 9)
    accuracy = float((true == pred).float().mean())
    ax.set(xlabel="predicted", ylabel="true", title=f"confusion matrix (accuracy {accuracy:.3f})")
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if counts[i, j]:
                    ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=8,
                            color="white" if counts[i, j] > counts.max() / 2 else "black")
    return _png(fig)


def predicted_vs_true(true: Tensor, pred: Tensor) -> bytes:
    """A scatter of predicted vs true values and both over the test samples, in order."""
    t = true.reshape(len(true), -1)[:, 0].numpy()
    p = pred.reshape(len(pred), -1)[:, 0].numpy()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [1, 2]})
    axes[0].scatter(t, p, s=12, alpha=0.7)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    axes[0].plot([lo, hi], [lo, hi], color="grey", linestyle="--", linewidth=1)
    axes[0].set(xlabel="true", ylabel="predicted", title="predicted vs true")
    axes[1].plot(t, label="true", marker=".")
    axes[1].plot(p, label="predicted", marker=".")
    axes[1].set(xlabel="test sample", title="first output, sample by sample")
    axes[1].legend()
    for ax in axes:
        ax.grid(alpha=0.3)
    return _png(fig)


def frame_strip(x: Tensor, true: Tensor, pred: Tensor, classes: Sequence[str],
                count: int = 6) -> bytes:
    """Rows of input frames (N, T, C, H, W) with the true and predicted class of each clip."""
    n, steps, classes = min(count, len(x)), x.shape[1], _names(classes)
    fig, axes = plt.subplots(n, steps, figsize=(1.1 * steps + 1.5, 1.2 * n), squeeze=False)
    for i in range(n):
        for t in range(steps):
            if x.shape[2] == 3:  # colour frames
                axes[i, t].imshow(x[i, t].permute(1, 2, 0).clamp(0, 1).numpy())
            else:
                axes[i, t].imshow(x[i, t, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axes[i, t].axis("off")
        ok = "ok" if true[i] == pred[i] else "WRONG"
        axes[i, -1].text(1.1, 0.5, f"true {classes[int(true[i])]}\npred {classes[int(pred[i])]}"
                         f" ({ok})", transform=axes[i, -1].transAxes, va="center", fontsize=8)
    fig.suptitle("input frames (time ->) and the prediction")
    return _png(fig)


def forecast_frames(x: Tensor, true: Tensor, pred: Tensor, count: int = 3) -> bytes:
    """For a few samples: the input frames, the true future and the predicted future."""
    n = min(count, len(x))
    steps_in, steps_out = x.shape[1], true.shape[1]
    fig, axes = plt.subplots(3 * n, max(steps_in, steps_out),
                             figsize=(1.1 * max(steps_in, steps_out) + 1, 3.3 * n),
                             squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i in range(n):
        for row, (frames, label) in enumerate(((x, "input"), (true, "true"), (pred, "predicted"))):
            for t in range(frames.shape[1]):
                axes[3 * i + row, t].imshow(frames[i, t, 0].clamp(0, 1).numpy(), cmap="gray",
                                            vmin=0, vmax=1)
            axes[3 * i + row, 0].set_title(label, fontsize=8, loc="left")
    fig.suptitle("forecast: input frames, true future, predicted future")
    return _png(fig)
