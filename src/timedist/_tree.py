"""Nested inputs and outputs: tensors, or tuples/lists/dicts/namedtuples of them (pytrees).

Thin helpers over ``torch.utils._pytree`` (which torch.compile traces natively), with a fast
path for plain tensors, the common case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from torch import Tensor
from torch.utils import _pytree as pytree

__all__ = ["combine", "flatten", "leaf_path", "leaves", "map_tensors", "unflatten"]


def flatten(inputs: tuple[Any, ...]) -> tuple[list[Any], Any]:
    """Leaves of the positional inputs and their structure (None: all inputs are tensors).

    Plain tensor inputs (the common case) skip pytree, which costs ~10 us a call.
    """
    if all(isinstance(x, Tensor) for x in inputs):
        return list(inputs), None
    return pytree.tree_flatten(inputs)


def unflatten(leaves: list[Any], spec: Any) -> tuple[Any, ...]:
    """Inverse of :func:`flatten`."""
    return tuple(leaves) if spec is None else tuple(pytree.tree_unflatten(leaves, spec))


def leaves(tree: Any) -> list[Any]:
    """All leaves of ``tree`` in pytree order (``[tree]`` for a tensor)."""
    return [tree] if isinstance(tree, Tensor) else pytree.tree_leaves(tree)


def leaf_path(prefix: str, tree: Any, i: int) -> str:
    """``"inputs[1]['b']"``: where leaf ``i`` of ``tree`` sits (for error messages)."""
    return prefix + pytree.keystr(pytree.tree_flatten_with_path(tree)[0][i][0])


def map_tensors(fn: Callable[[Tensor], Any], tree: Any) -> Any:
    """Apply ``fn`` to every tensor leaf of ``tree``; other leaves are kept as they are."""
    if isinstance(tree, Tensor):
        return fn(tree)
    return pytree.tree_map(lambda v: fn(v) if isinstance(v, Tensor) else v, tree)


def combine(trees: Sequence[Any], fn: Callable[[list[Tensor]], Tensor]) -> Any:
    """Merge structurally equal trees leaf by leaf: ``fn([leaf of tree 0, leaf of tree 1, ...])``.

    Non-tensor leaves are taken from the first tree.
    """
    if isinstance(trees[0], Tensor):
        return fn(list(trees))
    flat = [pytree.tree_flatten(t)[0] for t in trees]
    spec = pytree.tree_flatten(trees[0])[1]
    leaves = [
        fn([f[i] for f in flat]) if isinstance(leaf, Tensor) else leaf
        for i, leaf in enumerate(flat[0])
    ]
    return pytree.tree_unflatten(leaves, spec)
