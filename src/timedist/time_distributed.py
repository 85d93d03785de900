"""``TimeDistributed``: apply a module to every time step with shared weights."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from itertools import chain
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import functional_call
from torch.utils import _pytree as pytree
from torch.utils.checkpoint import checkpoint as _checkpoint

from . import _tree
from ._checks import check_choice, check_optional_positive_int, shape_error, tracing
from ._wrapper import Wrapper
from .folding import choose_swap, fold, unfold
from .masking import resolve_mask

__all__ = ["TimeDistributed"]

_MODES = ("merge", "loop")


def _on_meta(module: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run ``module`` with every parameter, buffer and input tensor moved to the meta device.

    Only shapes and dtypes are computed; the real module's state (e.g. BatchNorm running
    statistics) is never touched.
    """
    state = {
        name: t.to("meta")
        for name, t in chain(
            module.named_parameters(remove_duplicate=False),
            module.named_buffers(remove_duplicate=False),
        )
    }
    meta_args, meta_kwargs = _tree.map_tensors(lambda t: t.to("meta"), (args, kwargs))
    return functional_call(module, state, meta_args, meta_kwargs)


# ---------------------------------------------------------------------------------------------
# What the per-step input of common torch layers must look like (checked before torch sees it).


def _step_spec(module: nn.Module) -> tuple[tuple[str, ...], int, int] | None:
    """``(dim names of one step, checked dim, expected size)`` for Linear/ConvNd, else None.

    The dim names are the per-step shape after (B, T); ``...`` marks any number of dims.
    """
    if isinstance(module, nn.Sequential) and len(module) > 0:
        return _step_spec(module[0])
    if isinstance(module, nn.Linear):
        return ("...", "F"), -1, module.in_features
    if isinstance(module, nn.modules.conv._ConvNd):
        spatial = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}[len(module.kernel_size)]
        return ("C", *spatial), 0, module.in_channels
    return None


def _valid_index(keep: Tensor) -> Tensor | None:
    """Indices of the True items of a (N,) bool tensor; None when all are True (no gather)."""
    index = keep.nonzero().squeeze(1)
    return None if index.numel() == keep.numel() else index


def _scatter(y: Tensor, index: Tensor, total: int) -> Tensor:
    """(M, ...) rows placed at ``index`` of (total, ...) zeros; differentiable w.r.t. ``y``."""
    # In place on fresh zeros: one pass fewer than the out-of-place index_copy (which clones).
    return y.new_zeros((total, *y.shape[1:])).index_copy_(0, index, y)


class TimeDistributed(Wrapper):
    """Apply ``module`` to every time step of a sequence, with the same weights at every step.

    Keras' ``TimeDistributed`` for PyTorch. By default (``mode="merge"``) time is folded into the
    batch with a view, ``module`` runs once on (B*T, ...) and the result is unfolded to
    (B, T, ...); ``mode="loop"`` calls ``module`` once per step (Keras 3 semantics, e.g. per-step
    BatchNorm statistics).

    Args:
        module: any ``nn.Module`` that treats the items of its batch (dim 0) independently.
        batch_first: inputs and outputs are (B, T, ...) if True (default), else (T, B, ...).
        mode: ``"merge"`` (one call on the folded batch) or ``"loop"`` (one call per step).
        chunk_size: call ``module`` on at most this many folded items at a time (bounds the
            memory of each call; None = no limit).
        checkpoint: recompute each call in backward instead of keeping its activations
            (``torch.utils.checkpoint``); with ``chunk_size`` this bounds training memory.

    ``forward(*inputs, mask=None, lengths=None, **kwargs)``:
        inputs: tensors, or nested tuples/lists/dicts of tensors; every leaf (B, T, ...).
        mask: (B, T) bool, True on valid steps; or lengths: (B,) ints (valid steps come first).
            ``module`` then runs on valid steps only; other output positions are zero.
        kwargs: passed to ``module`` unchanged (not distributed over time).

    Shape:
        - Input: (B, T, *S) per leaf, or (T, B, *S) with ``batch_first=False``, where *S is what
          ``module`` takes for one item, e.g. (C, H, W) for ``nn.Conv2d``.
        - Output: ``module``'s output structure with each tensor leaf (N, *S') unfolded to
          (B, T, *S') (or (T, B, *S')).

    Compiled or exported (torch.compile, torch.export, ONNX), a masked call runs ``module`` on
    every step (padded ones on zeros) and selects the valid outputs, so the graph has no
    data-dependent shapes; ``mode="loop"`` in eval mode runs as "merge" (the same result for a
    module that treats items independently) so that T stays symbolic, and ``chunk_size`` is
    not applied (the number of chunks would fix B*T).

    Example:
        >>> import torch, timedist
        >>> layer = timedist.TimeDistributed(torch.nn.Conv2d(3, 16, 3))
        >>> layer(torch.randn(5, 3, 3, 32, 32)).shape
        torch.Size([5, 3, 16, 30, 30])
    """

    def __init__(
        self,
        module: nn.Module,
        *,
        batch_first: bool = True,
        mode: str = "merge",
        chunk_size: int | None = None,
        checkpoint: bool = False,
    ) -> None:
        super().__init__(module)
        self.module = module
        check_choice(self.name, "mode", mode, _MODES)
        self.batch_first = bool(batch_first)
        self.mode = mode
        self.chunk_size = check_optional_positive_int(self.name, "chunk_size", chunk_size)
        self.checkpoint = bool(checkpoint)

    def extra_repr(self) -> str:
        defaults = {"batch_first": True, "mode": "merge", "chunk_size": None, "checkpoint": False}
        return ", ".join(
            f"{k}={getattr(self, k)!r}" for k, v in defaults.items() if getattr(self, k) != v
        )

    # -- shape logic ---------------------------------------------------------------------------

    def _pattern(self, step: Sequence[str] = ("...",)) -> str:
        lead = ("B", "T") if self.batch_first else ("T", "B")
        return "(" + ", ".join((*lead, *step)) + ")"

    def validate_input(self, inputs: tuple[Any, ...]) -> tuple[int, int]:
        """Validate the positional inputs; return (B, T).

        Every leaf must be a tensor of rank >= 3 with the same B and T as the first one; for a
        single input to a known layer (Linear, ConvNd, or a Sequential starting with one) the
        per-step shape is checked too.
        """
        return self._check_leaves(inputs, _tree.flatten(inputs)[0])

    def _check_leaves(self, inputs: tuple[Any, ...], leaves: list[Any]) -> tuple[int, int]:
        if not leaves:
            raise TypeError(f"{self.name}: expected at least one input tensor; got none")

        def where(i: int) -> str:
            return "at " + _tree.leaf_path("inputs", inputs, i) if len(leaves) > 1 else ""

        for i, leaf in enumerate(leaves):
            if not isinstance(leaf, Tensor):
                raise TypeError(
                    f"{self.name}: expected tensors (or nested tuples/lists/dicts of tensors) as "
                    f"inputs; got {type(leaf).__name__} at {_tree.leaf_path('inputs', inputs, i)}"
                )
        first = leaves[0]
        for i, leaf in enumerate(leaves):
            if leaf.dim() < 3:
                raise shape_error(
                    self.name, f"input {self._pattern()} of rank >= 3", leaf.shape, where=where(i),
                    hint="Add the missing time or feature dimension (e.g. x.unsqueeze(1) for T=1)",
                )
            if leaf.shape[:2] != first.shape[:2]:
                b, t = self._split(first.shape)
                raise shape_error(
                    self.name, f"every input to be {self._pattern()} with B={b}, T={t} "
                    "(from the first input)", leaf.shape, where=where(i),
                )
        spec = _step_spec(self.module) if len(leaves) == 1 else None
        if spec is not None:
            names, dim, size = spec
            step = first.shape[2:]
            rank_ok = "..." in names or len(step) == len(names)
            if not rank_ok or step[dim] != size:
                expected = f"input {self._pattern(names)} with {names[dim]}={size}"
                raise shape_error(self.name, expected, first.shape)
        return self._split(first.shape)

    def _split(self, shape: Sequence[int]) -> tuple[int, int]:
        """(B, T) from a leaf's shape."""
        return (shape[0], shape[1]) if self.batch_first else (shape[1], shape[0])

    def compute_output_shape(self, *input_shapes: Any, dtype: torch.dtype = torch.float32) -> Any:
        """The output's structure with a ``torch.Size`` per tensor leaf, computed on meta tensors.

        ``input_shapes`` mirror ``forward``'s positional inputs with a shape (tuple of ints or
        ``torch.Size``) per tensor. Nothing is computed on real data and no state changes.

        >>> TimeDistributed(torch.nn.Linear(8, 10)).compute_output_shape((4, 12, 8))
        torch.Size([4, 12, 10])
        """

        def is_shape(s: Any) -> bool:
            return isinstance(s, (tuple, list)) and all(isinstance(d, int) for d in s)

        inputs = pytree.tree_map(
            lambda s: torch.empty(tuple(s), dtype=dtype, device="meta"), input_shapes,
            is_leaf=is_shape,
        )
        out = _on_meta(self, tuple(inputs), {})
        return _tree.map_tensors(lambda t: t.shape, out)

    # -- forward -------------------------------------------------------------------------------

    def forward(
        self,
        *inputs: Any,
        mask: Tensor | None = None,
        lengths: Tensor | None = None,
        **kwargs: Any,
    ) -> Any:
        """Apply the module to every (valid) step; see the class docstring for shapes."""
        leaves, spec = _tree.flatten(inputs)
        batch, steps = self._check_leaves(inputs, leaves)
        valid = resolve_mask(self.name, mask, lengths, batch, steps)
        if valid is not None:
            valid = valid.to(leaves[0].device)
        if self.mode == "loop" and batch * steps > 0 and (self.training or not tracing()):
            return self._forward_loop(leaves, spec, valid, kwargs)
        return self._forward_merge(leaves, spec, valid, kwargs)

    def _forward_merge(
        self, leaves: list[Tensor], spec: Any, valid: Tensor | None, kwargs: dict[str, Any]
    ) -> Any:
        """Fold (d0, d1, ...) -> (N, ...), run on the (valid) items, unfold."""
        leading = (leaves[0].shape[0], leaves[0].shape[1])
        swap = choose_swap(leaves)
        items = [fold(x, swap) for x in leaves]
        index = None
        if valid is not None:  # the mask, laid out and folded like the inputs: (N,)
            keep = fold(valid if self.batch_first else valid.t(), swap)
            if tracing():  # selection instead of a gather: no data-dependent shapes
                return self._forward_selected(items, keep, spec, kwargs, leading, swap)
            index = _valid_index(keep)
        desc = partial(self._folded_desc, leading, index)
        out = self._gather_run_scatter(items, index, spec, kwargs, desc)
        return _tree.map_tensors(partial(unfold, leading=leading, swap=swap), out)

    def _forward_selected(self, items: list[Tensor], keep: Tensor, spec: Any,
                          kwargs: dict[str, Any], leading: tuple[int, int], swap: bool) -> Any:
        """The traced masked path: every folded item (N, ...) runs, padded ones on zeros, and
        their outputs are selected to zero (``torch.where``: padding never reaches a valid
        output or a gradient). Eager mode gathers the valid items instead, which is faster."""

        def select(x: Tensor) -> Tensor:
            return torch.where(keep.view(-1, *([1] * (x.dim() - 1))), x, 0)

        desc = partial(self._folded_desc, leading, None)
        out = self._run([select(x) for x in items], spec, kwargs, desc)
        return _tree.map_tensors(lambda y: unfold(select(y), leading=leading, swap=swap), out)

    def _forward_loop(
        self, leaves: list[Tensor], spec: Any, valid: Tensor | None, kwargs: dict[str, Any]
    ) -> Any:
        """One call per step t on (B, ...) = x[:, t]; valid items only when masked."""
        tdim = 1 if self.batch_first else 0
        outs = []
        for t in range(leaves[0].shape[tdim]):
            items = [x.select(tdim, t) for x in leaves]
            index = None if valid is None else _valid_index(valid[:, t])
            desc = partial("the items of step {} (B, ...)".format, t)
            outs.append(self._gather_run_scatter(items, index, spec, kwargs, desc))
        return _tree.combine(outs, partial(torch.stack, dim=tdim))

    # -- calling the module ----------------------------------------------------------------------

    def _folded_desc(self, leading: tuple[int, int], index: Tensor | None) -> str:
        batch, steps = (leading if self.batch_first else leading[::-1])
        if index is not None:
            return f"the {index.numel()} valid steps (B={batch}, T={steps})"
        return f"B*T = {batch * steps} (B={batch}, T={steps})"

    def _gather_run_scatter(
        self,
        items: list[Tensor],
        index: Tensor | None,
        spec: Any,
        kwargs: dict[str, Any],
        desc: Callable[[], str],
    ) -> Any:
        """Run the module on ``items[index]`` (all items if None); zeros elsewhere.

        Shape: items (N, ...) each; index (M,) int64; output leaves (N, ...).
        """
        if index is None:
            return self._run(items, spec, kwargs, desc)
        total = items[0].shape[0]
        out = self._run([x.index_select(0, index) for x in items], spec, kwargs, desc)
        return _tree.map_tensors(partial(_scatter, index=index, total=total), out)

    def _run(
        self, items: list[Tensor], spec: Any, kwargs: dict[str, Any], desc: Callable[[], str]
    ) -> Any:
        """Call the module on items (N, ...), in chunks of at most ``chunk_size``.

        ``desc()`` describes the items for an error message; it is called only on error, so
        that formatting symbolic sizes never specializes them under ``torch.compile``.
        """
        n = items[0].shape[0]
        if n == 0:
            return self._zeros(items, spec, kwargs)
        if self.chunk_size is None or tracing() or n <= self.chunk_size:  # a graph: one call
            return self._call(items, spec, kwargs, desc)
        pieces = zip(*(torch.split(x, self.chunk_size) for x in items), strict=True)
        outs = [self._call(list(p), spec, kwargs, desc) for p in pieces]
        return _tree.combine(outs, torch.cat)

    def _call(
        self, items: list[Tensor], spec: Any, kwargs: dict[str, Any], desc: Callable[[], str]
    ) -> Any:
        """One call of the module on items (n, ...); checks every output leaf is (n, ...)."""

        def call(*xs: Tensor) -> Any:
            return self.module(*_tree.unflatten(list(xs), spec), **kwargs)

        if self.checkpoint and torch.is_grad_enabled():
            out = _checkpoint(call, *items, use_reentrant=False)
        else:
            out = call(*items)
        n = items[0].shape[0]
        for i, leaf in enumerate(_tree.leaves(out)):
            if isinstance(leaf, Tensor) and (leaf.dim() == 0 or leaf.shape[0] != n):
                raise shape_error(
                    self.name,
                    f"every output leaf to start with the {n} items it was given, {desc()}",
                    leaf.shape,
                    where="at " + _tree.leaf_path("output", out, i),
                    hint="The wrapped module must return only batch-first tensors; e.g. "
                    "torch.nn.LSTM's h_n/c_n are (L*D, N, U): wrap timedist.LSTM instead, "
                    "which returns one (N, ...) tensor",
                )
        return out

    def _zeros(self, items: list[Tensor], spec: Any, kwargs: dict[str, Any]) -> Any:
        """Zeros shaped like the module's output for ``items``, without calling it for real.

        Float zeros stay attached to the inputs' autograd graph (with zero gradient), so that a
        backward pass through an empty or fully padded batch works as it does in torch.
        """
        args = _tree.unflatten(items, spec)
        device = items[0].device
        out = _on_meta(self.module, args, kwargs)
        anchor = sum(x.sum() * 0 for x in items if x.is_floating_point() and x.requires_grad)

        def zeros(t: Tensor) -> Tensor:
            z = torch.zeros(t.shape, dtype=t.dtype, device=device)
            return z + anchor if isinstance(anchor, Tensor) and t.is_floating_point() else z

        return _tree.map_tensors(zeros, out)
