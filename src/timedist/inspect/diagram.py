"""Pictures of an :class:`~timedist.inspect.explain.Explanation` (matplotlib, PNG).

An RNN is drawn unrolled: time steps left to right, layers bottom to top, one box per
direction, arrows for the hidden state (forward to the right, backward to the left), every
tensor labelled with its shape. Convolutions and TimeDistributed are drawn as a flow of shapes.
"""

from __future__ import annotations

import io
from typing import Any

from .._atomic import atomic_write
from .explain import Explanation

__all__ = ["draw"]


def draw(explanation: Explanation, path: str, *, replace: bool = True) -> None:
    """Write ``explanation`` as a PNG at ``path`` (atomically: never a half-written file; a
    file that appeared meanwhile is replaced only with ``replace``)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:  # pragma: no cover - matplotlib is in the train extra
        raise ImportError("--png needs matplotlib: pip install 'timedist[train]'") from error
    data = explanation.data
    fig = _unrolled(plt, data) if data["kind"] in ("rnn", "lstm", "gru") else _flow(plt, data)
    fig.suptitle(explanation.title, fontsize=9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()), replace=replace)


def _box(ax: Any, x: float, y: float, text: str, color: str) -> None:
    ax.text(x, y, text, ha="center", va="center", fontsize=7,
            bbox={"boxstyle": "round,pad=0.3", "fc": color, "ec": "#333333"})


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], color: str) -> None:
    ax.annotate("", xy=end, xytext=start,
                arrowprops={"arrowstyle": "->", "color": color, "lw": 1.0})


def _unrolled(plt: Any, data: dict[str, Any]) -> Any:
    steps, layers, d = data["seq_len"], data["num_layers"], data["directions"]
    b, f, u = data["batch"], data["input_size"], data["units"]
    fig, ax = plt.subplots(figsize=(2.0 + 1.9 * steps, 1.6 + 1.5 * layers * d))
    row_height = 1.0
    colors = ("#cfe3f7", "#f7dccf")
    for layer in range(layers):
        for direction in range(d):
            y = (layer * d + direction) * row_height + 1.0
            name = "forward" if direction == 0 else "backward"
            for t in range(steps):
                _box(ax, t * 2.0 + 2.0, y, f"L{layer} {name}\nt={t}", colors[direction])
                if t + 1 < steps:
                    a, z = (t * 2.0 + 2.55, t * 2.0 + 3.45)
                    _arrow(ax, (a, y) if direction == 0 else (z, y),
                           (z, y) if direction == 0 else (a, y), "#1f4e79")
            k = layer * d + direction
            start, end = (0.7, steps * 2.0 + 1.1) if direction == 0 else (steps * 2.0 + 1.1, 0.7)
            ax.text(start, y, f"h0[{k}]\n({b}, {u})", ha="center", va="center", fontsize=6)
            ax.text(end, y, f"h_n[{k}]\n({b}, {u})", ha="center", va="center", fontsize=6,
                    color="#7a1f1f")
    top = (layers * d - 1) * row_height + 1.0
    for t in range(steps):
        x = t * 2.0 + 2.0
        ax.text(x, 0.2, f"x[t={t}]\n({b}, {f})", ha="center", va="center", fontsize=6)
        _arrow(ax, (x, 0.4), (x, 0.75), "#555555")
        ax.text(x, top + 0.85, f"output[t={t}]\n({b}, {d * u})", ha="center", va="center",
                fontsize=6)
        _arrow(ax, (x, top + 0.3), (x, top + 0.6), "#555555")
        for row in range(layers * d - 1):
            if (row + 1) % d == 0 or d == 1:  # layer boundary: both directions feed upwards
                y0 = row * row_height + 1.0
                _arrow(ax, (x, y0 + 0.3), (x, y0 + row_height - 0.3), "#555555")
    ax.set_xlim(-0.2, steps * 2.0 + 2.0)
    ax.set_ylim(-0.3, top + 1.3)
    ax.axis("off")
    caption = (f"input {tuple(data['input'])} -> output {tuple(data['output'])}; "
               f"h_n {tuple(data['h_n'])} (row = layer*D + direction), whatever batch_first is"
               + ("; each layer reads both directions of the layer below" if d == 2 else ""))
    ax.text(0, -0.25, caption, fontsize=7, va="top")
    fig.tight_layout()
    return fig


def _flow(plt: Any, data: dict[str, Any]) -> Any:
    if data["kind"] == "conv2d":
        stages = [("input (N, C_i, H, W)", data["input"]),
                  ("weight (C_o, C_i, k, k)", data["weight"]),
                  ("output (N, C_o, H', W')", data["output"])]
    else:
        stages = [("input (B, T, ...)", data["input"]), ("folded (B*T, ...), a view",
                                                          data["folded"]),
                  (f"{data['module']} -> unfold (B, T, ...)", data["output"])]
    fig, ax = plt.subplots(figsize=(3.2 * len(stages), 2.0))
    for i, (label, shape) in enumerate(stages):
        _box(ax, i * 3.0 + 1.5, 1.0, f"{label}\n{tuple(shape)}", "#cfe3f7")
        if i:
            _arrow(ax, (i * 3.0 - 0.2, 1.0), (i * 3.0 + 0.2, 1.0), "#1f4e79")
    ax.text(0.1, 0.25, f"parameters: {data['parameters']:,}", fontsize=7)
    ax.set_xlim(0, 3.0 * len(stages))
    ax.set_ylim(0, 2)
    ax.axis("off")
    fig.tight_layout()
    return fig
