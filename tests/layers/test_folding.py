"""Folding (B, T) into one dimension is exact, and a view whenever strides allow."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from timedist.folding import choose_swap, fold, merge_is_view, unfold


@st.composite
def laid_out(draw: st.DrawFn) -> torch.Tensor:
    """A (d0, d1, f0, f1) tensor made by permuting a contiguous one in any order."""
    shape = draw(st.lists(st.integers(1, 4), min_size=4, max_size=4))
    order = draw(st.permutations(range(4)))
    base = torch.randn([shape[i] for i in order])
    inverse = [order.index(i) for i in range(4)]
    return base.permute(inverse)


@given(laid_out())
def test_fold_unfold_is_exact_in_both_orders(x: torch.Tensor) -> None:
    for swap in (False, True):
        folded = fold(x, swap)
        assert folded.shape == (x.shape[0] * x.shape[1], *x.shape[2:])
        assert torch.equal(unfold(folded, (x.shape[0], x.shape[1]), swap), x)
        i0, i1 = x.shape[0] - 1, x.shape[1] - 1  # the last item lands where the order says
        item = i1 * x.shape[0] + i0 if swap else i0 * x.shape[1] + i1
        assert torch.equal(folded[item], x[i0, i1])


@given(laid_out())
def test_fold_is_a_view_exactly_when_merge_is_view_says_so(x: torch.Tensor) -> None:
    swap = choose_swap([x])
    folded = fold(x, swap)
    shares = folded.data_ptr() == x.data_ptr() and folded._base is not None
    if merge_is_view(x, swap):
        assert folded.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    else:
        assert not shares
        assert not merge_is_view(x, not swap)


def test_time_major_permuted_input_folds_in_swapped_order() -> None:
    x = torch.randn(5, 2, 3).transpose(0, 1)  # (B, T, F) view of a (T, B, F) tensor
    assert not merge_is_view(x) and merge_is_view(x, swap=True) and choose_swap([x])
