"""Property tests: every mode of TimeDistributed equals the per-step loop, masked or not."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from hypothesis import given
from hypothesis import strategies as st
from test_wrappers import per_step
from torch import Tensor, nn
from torch.utils import _pytree as pytree

from timedist import TimeDistributed


class TupleOut(nn.Module):
    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x.tanh(), x.mean(dim=-1)


# name -> (module factory, strategy of one step's shape)
FAMILY: dict[str, tuple[Callable[[], nn.Module], st.SearchStrategy[tuple[int, ...]]]] = {
    "linear": (lambda: nn.Linear(3, 4),
               st.lists(st.integers(1, 3), max_size=1).map(lambda s: (*s, 3))),
    "conv1d": (lambda: nn.Conv1d(2, 3, 3, padding=1), st.tuples(st.just(2), st.integers(1, 6))),
    "conv2d": (lambda: nn.Conv2d(2, 3, 3),
               st.tuples(st.just(2), st.integers(3, 6), st.integers(3, 6))),
    "conv3d": (lambda: nn.Conv3d(2, 2, 2),
               st.tuples(st.just(2), st.integers(2, 4), st.integers(2, 4), st.integers(2, 4))),
    "maxpool": (lambda: nn.MaxPool2d(2),
                st.tuples(st.just(2), st.integers(2, 6), st.integers(2, 6))),
    "cnn": (lambda: nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(16, 3)),
            st.just((2, 4, 4))),
    "tuple": (TupleOut, st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple)),
}

CONFIGS = st.one_of(
    st.just({}),
    st.just({"mode": "loop"}),
    st.builds(lambda c: {"chunk_size": c}, st.integers(1, 5)),
    st.builds(lambda c: {"chunk_size": c, "checkpoint": True}, st.integers(1, 5)),
    st.builds(lambda c: {"mode": "loop", "chunk_size": c}, st.integers(1, 3)),
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[nn.Module, dict[str, Any], Tensor, Tensor | None, bool]:
    name = draw(st.sampled_from(sorted(FAMILY)))
    factory, step_shape = FAMILY[name]
    batch, steps = draw(st.integers(0, 3)), draw(st.integers(1, 4))
    batch_first = draw(st.booleans())
    lead = (batch, steps) if batch_first else (steps, batch)
    torch.manual_seed(draw(st.integers(0, 2**16)))
    x = torch.randn(*lead, *draw(step_shape))
    mask = torch.rand(batch, steps) < 0.6 if draw(st.booleans()) else None
    config = {**draw(CONFIGS), "batch_first": batch_first}
    return factory(), config, x, mask, batch_first


def masked_reference(module: nn.Module, x: Tensor, mask: Tensor | None, batch_first: bool) -> Any:
    out = per_step(module, x, batch_first=batch_first)
    if mask is None:
        return out
    m = mask if batch_first else mask.t()
    return pytree.tree_map(lambda y: y * m.view(*m.shape, *([1] * (y.dim() - 2))), out)


def grads(out: Any, inputs: list[Tensor], weights: list[Tensor]) -> tuple[Tensor, ...]:
    leaves = pytree.tree_leaves(out)
    loss = sum((y * w).sum() for y, w in zip(leaves, weights, strict=True))
    return torch.autograd.grad(loss, inputs, allow_unused=True, materialize_grads=True)


@given(cases())
def test_every_mode_equals_the_per_step_loop(case: Any) -> None:
    module, config, x, mask, batch_first = case
    layer = TimeDistributed(module, **config)
    x = x.requires_grad_()
    out = layer(x, mask=mask)
    expected = masked_reference(module, x, mask, batch_first)

    flat_out, spec_out = pytree.tree_flatten(out)
    flat_expected, spec_expected = pytree.tree_flatten(expected)
    assert spec_out == spec_expected
    for y, e in zip(flat_out, flat_expected, strict=True):
        torch.testing.assert_close(y, e)
        if mask is not None:  # padded positions are exactly zero, not merely close
            m = mask if batch_first else mask.t()
            assert (y[~m] == 0).all()

    wrt = [x, *module.parameters()]
    weights = [torch.randn_like(e) for e in flat_expected]
    for g, h in zip(grads(out, wrt, weights), grads(expected, wrt, weights), strict=True):
        torch.testing.assert_close(g, h)
