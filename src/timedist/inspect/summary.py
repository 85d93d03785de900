"""A Keras-like, time-aware model summary from one real forward pass.

Every row's output shape is what the layer produced on the given input. Layers inside a
``TimeDistributed`` see folded (B*T, ...) items, but they are shown per step as (B, T, ...),
the way the user thinks of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils import _pytree as pytree

from ..time_distributed import TimeDistributed

__all__ = ["LayerRow", "ModelSummary", "summary"]


@dataclass(frozen=True)
class LayerRow:
    """One module: dotted ``name``, ``kind`` (class name), ``depth`` (1 = child of the model),
    ``output_shape`` (per tensor leaf, time-aware) and ``params`` (its parameters, recursive)."""

    name: str
    kind: str
    depth: int
    output_shape: Any
    params: int


@dataclass(frozen=True)
class ModelSummary:
    """What :func:`summary` returns; ``str()`` renders the table."""

    model: str
    input_shape: Any
    output_shape: Any
    rows: list[LayerRow] = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0

    @property
    def non_trainable_params(self) -> int:
        """Parameters that do not train (``requires_grad=False``)."""
        return self.total_params - self.trainable_params

    def __str__(self) -> str:
        header = ("Layer (type)", "Output shape", "Param #")
        body = [("  " * (r.depth - 1) + f"{r.name.rsplit('.', 1)[-1]} ({r.kind})",
                 _format(r.output_shape), f"{r.params:,}") for r in self.rows]
        widths = [max(len(row[i]) for row in [header, *body]) for i in range(3)]
        line = "=" * (sum(widths) + 4)

        def render(row: Sequence[str]) -> str:
            return f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:>{widths[2]}}"

        return "\n".join([
            f"Model: {self.model}",
            f"Input shape: {_format(self.input_shape)} -> output shape: "
            f"{_format(self.output_shape)}",
            line, render(header), line, *(render(r) for r in body), line,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.non_trainable_params:,}",
        ])


def _format(shapes: Any) -> str:
    """``(4, 12, 10)`` for one tensor; ``[(4, 16), (1, 4, 16)]`` for several."""
    leaves = [s for s in pytree.tree_leaves(shapes, is_leaf=lambda s: isinstance(s, tuple)
                                            and all(isinstance(d, int) for d in s))]
    text = [str(tuple(s)) for s in leaves]
    return text[0] if len(text) == 1 else "[" + ", ".join(text) + "]"


def _shapes(tree: Any, lead: tuple[int, ...] | None) -> Any:
    """Shape tuples of the tensor leaves; inside TimeDistributed, items become ``lead`` (B, T)."""

    def shape(t: Tensor) -> tuple[int, ...]:
        dims = tuple(t.shape)
        return dims if lead is None or not dims else (*lead, *dims[1:])

    leaves = [shape(v) for v in pytree.tree_leaves(tree) if isinstance(v, Tensor)]
    return leaves[0] if len(leaves) == 1 else tuple(leaves)


def _make_inputs(input_size: Any, input_data: Any, device: torch.device) -> tuple[Any, ...]:
    if input_data is not None:
        return tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)
    if input_size is None:
        raise ValueError("summary: expected input_size or input_data; got neither")
    sizes = [input_size] if all(isinstance(d, int) for d in input_size) else list(input_size)
    return tuple(torch.randn(*s, device=device) for s in sizes)


def summary(
    model: nn.Module,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    *,
    input_data: Any = None,
    depth: int = 3,
) -> ModelSummary:
    """Run ``model`` once (eval mode, no grad) and tabulate every module down to ``depth``.

    Args:
        model: any ``nn.Module``.
        input_size: the input shape, e.g. (4, 12, 8), or a list of shapes for several inputs
            (random normal data is made); or give ``input_data`` (a tensor or tuple of them).
        depth: how many levels of submodules to list (1 = the model's children).

    The model's train/eval mode is restored and every hook removed, even on error; BatchNorm
    statistics do not change (eval mode).

    >>> table = summary(TimeDistributed(nn.Linear(8, 10)), (4, 12, 8))
    >>> table.rows[0].name, table.rows[0].output_shape, table.total_params
    ('module', (4, 12, 10), 90)
    """
    params = next(iter(model.parameters()), None)
    device = params.device if params is not None else torch.device("cpu")
    inputs = _make_inputs(input_size, input_data, device)
    outputs: dict[str, Any] = {}
    lead: list[tuple[int, ...]] = []  # (B, T) of the TimeDistributed layers being run
    handles = []

    def enter(module: nn.Module, args: tuple[Any, ...]) -> None:
        leaves = [v for v in pytree.tree_leaves(args) if isinstance(v, Tensor)]
        lead.append(tuple(leaves[0].shape[:2]))

    def leave(module: nn.Module, args: Any, out: Any) -> None:
        lead.pop()

    def record(name: str) -> Any:
        def hook(module: nn.Module, args: Any, out: Any) -> None:
            if name not in outputs:  # a module called per step or per chunk: its first call
                inside = lead[-1] if lead and not isinstance(module, TimeDistributed) else None
                outputs[name] = _shapes(out, inside)
        return hook

    listed = [(n, m) for n, m in model.named_modules() if n and n.count(".") < depth]
    listed = listed or [("", model)]  # a single layer: one row for the model itself
    was_training = {m: m.training for m in model.modules()}
    try:
        for module in model.modules():
            if isinstance(module, TimeDistributed):
                handles.append(module.register_forward_pre_hook(enter))
                handles.append(module.register_forward_hook(leave))
        for name, module in listed:
            handles.append(module.register_forward_hook(record(name)))
        model.eval()
        with torch.no_grad():
            out = model(*inputs)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in was_training.items():
            module.train(mode)
    rows = [LayerRow(name or "model", type(m).__name__, name.count(".") + 1, outputs[name],
                     sum(p.numel() for p in m.parameters()))
            for name, m in listed if name in outputs]
    all_params = list(model.parameters())
    return ModelSummary(
        model=type(model).__name__,
        input_shape=_shapes(inputs, None),
        output_shape=_shapes(out, None),
        rows=_in_call_order(rows, list(outputs), [name for name, _ in listed]),
        total_params=sum(p.numel() for p in all_params),
        trainable_params=sum(p.numel() for p in all_params if p.requires_grad),
    )


def _in_call_order(rows: list[LayerRow], called: list[str], defined: list[str]) -> list[LayerRow]:
    """Top-level modules in the order they ran, each followed by its submodules in the order
    they are defined (what named_modules() lists)."""
    ran = {name: i for i, name in enumerate(called)}
    position = {name: i for i, name in enumerate(defined)}

    def key(row: LayerRow) -> tuple[int, int]:
        return (ran.get(row.name.split(".")[0], len(ran)), position.get(row.name, 0))

    return sorted(rows, key=key)
