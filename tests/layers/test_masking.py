"""lengths <-> mask, reversing valid steps and picking the last one, against per-sample loops."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from timedist import last_valid, lengths_to_mask, mask_to_lengths, reverse_valid


@st.composite
def padded(draw: st.DrawFn) -> tuple[torch.Tensor, torch.Tensor]:
    batch, steps = draw(st.integers(1, 4)), draw(st.integers(1, 6))
    lengths = torch.tensor(draw(st.lists(st.integers(0, steps), min_size=batch, max_size=batch)))
    torch.manual_seed(draw(st.integers(0, 999)))
    return torch.randn(batch, steps, 3), lengths


@given(padded())
def test_lengths_mask_round_trip(case: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, lengths = case
    mask = lengths_to_mask(lengths, x.shape[1])
    expected = [[t < int(n) for t in range(x.shape[1])] for n in lengths]
    assert mask.tolist() == expected
    assert torch.equal(mask_to_lengths(mask), lengths)


@given(padded(), st.booleans())
def test_reverse_valid_matches_a_loop_and_is_an_involution(
    case: tuple[torch.Tensor, torch.Tensor], batch_first: bool
) -> None:
    x, lengths = case
    expected = x.clone()
    for b, n in enumerate(lengths.tolist()):
        expected[b, :n] = x[b, :n].flip(0)
    xin = x if batch_first else x.transpose(0, 1)
    out = reverse_valid(xin, lengths, batch_first=batch_first)
    torch.testing.assert_close(out if batch_first else out.transpose(0, 1), expected)
    torch.testing.assert_close(reverse_valid(out, lengths, batch_first=batch_first), xin)


@given(padded())
def test_last_valid_matches_indexing(case: tuple[torch.Tensor, torch.Tensor]) -> None:
    x, lengths = case
    expected = torch.stack(
        [x[b, n - 1] if n else torch.zeros(3) for b, n in enumerate(lengths.tolist())]
    )
    torch.testing.assert_close(last_valid(x, lengths), expected)
    torch.testing.assert_close(last_valid(x.transpose(0, 1), lengths, batch_first=False), expected)


def test_errors_name_the_received_shape() -> None:
    with pytest.raises(ValueError, match=r"prefix mask \(valid steps first, then padding\); "
                       r"got shape \(2, 3\) whose sample 1 is \[1, 0, 1\]"):
        mask_to_lengths(torch.tensor([[True, False, False], [True, False, True]]))
    with pytest.raises(ValueError, match=r"reverse_valid: expected lengths \(B,\) = \(2,\); got "
                       r"shape \(3,\)"):
        reverse_valid(torch.randn(2, 4, 1), torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match=r"last_valid: .* got shape \(1, 2\)"):
        last_valid(torch.randn(2, 4, 1), torch.tensor([[1, 2]]))


def test_last_valid_of_empty_time() -> None:
    assert last_valid(torch.randn(2, 0, 3), torch.tensor([0, 0])).shape == (2, 3)
