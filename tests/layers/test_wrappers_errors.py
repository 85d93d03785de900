"""TimeDistributed rejects bad input at its boundary with the one error template."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from timedist import TimeDistributed


def test_rank_below_three() -> None:
    with pytest.raises(ValueError, match=r"TimeDistributed\(Linear\): expected input "
                       r"\(B, T, \.\.\.\) of rank >= 3; got shape \(8, 3\)"):
        TimeDistributed(nn.Linear(3, 2))(torch.randn(8, 3))


def test_conv2d_missing_time_dimension_names_the_pattern() -> None:
    with pytest.raises(ValueError, match=r"TimeDistributed\(Conv2d\): expected input "
                       r"\(B, T, C, H, W\) with C=3; got shape \(8, 3, 64, 64\)"):
        TimeDistributed(nn.Conv2d(3, 16, 3))(torch.randn(8, 3, 64, 64))


def test_wrong_channel_count_and_features() -> None:
    with pytest.raises(ValueError, match=r"with C=3; got shape \(2, 4, 1, 8, 8\)"):
        TimeDistributed(nn.Conv2d(3, 16, 3))(torch.randn(2, 4, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(T, B, \.\.\., F\) with F=8; got shape \(5, 2, 7\)"):
        TimeDistributed(nn.Linear(8, 1), batch_first=False)(torch.randn(5, 2, 7))


def test_inputs_disagreeing_on_batch_or_time() -> None:
    class Add(nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return a + b

    layer = TimeDistributed(Add())
    with pytest.raises(ValueError, match=r"with B=2, T=5 \(from the first input\); got shape "
                       r"\(2, 4, 3\) at inputs\[1\]"):
        layer(torch.randn(2, 5, 3), torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match=r"got shape \(3, 5, 3\) at inputs\[1\]\['b'\]"):
        layer(torch.randn(2, 5, 3), {"b": torch.randn(3, 5, 3)})


def test_non_tensor_input_and_no_input() -> None:
    layer = TimeDistributed(nn.Identity())
    with pytest.raises(TypeError, match=r"got int at inputs\[1\]"):
        layer(torch.randn(2, 3, 4), 5)
    with pytest.raises(TypeError, match="expected at least one input tensor"):
        layer()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask": torch.ones(2, 4, dtype=torch.bool)},
         r"expected mask \(B, T\) = \(2, 5\) of dtype torch.bool; got shape \(2, 4\)"),
        ({"mask": torch.ones(2, 5)}, r"got shape \(2, 5\) and dtype torch.float32\. Use mask.bool"),
        ({"lengths": torch.tensor([5, 6])},
         r"lengths \(B,\) = \(2,\) of integers in \[0, T=5\]; "
         r"got shape \(2,\) with values \[5, 6\]"),
        ({"lengths": torch.tensor([-1, 2])}, r"with values \[-1, 2\]"),
        ({"lengths": torch.tensor([1.0, 2.0])}, r"got shape \(2,\) and dtype torch.float32"),
        ({"lengths": torch.tensor([1, 2, 3])}, r"got shape \(3,\)"),
        ({"lengths": torch.tensor([1, 2]), "mask": torch.ones(2, 5, dtype=torch.bool)},
         "mask or lengths, not both"),
    ],
)
def test_bad_mask_or_lengths(kwargs: dict[str, torch.Tensor], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TimeDistributed(nn.Linear(3, 2))(torch.randn(2, 5, 3), **kwargs)


def test_wrapping_torch_lstm_names_the_leaf_and_suggests_a_fix() -> None:
    layer = TimeDistributed(nn.LSTM(3, 4, batch_first=True))
    with pytest.raises(ValueError) as info:
        layer(torch.randn(2, 6, 10, 3))  # (B, T, S, F): an LSTM over each step's sub-sequence
    message = str(info.value)
    assert "TimeDistributed(LSTM): expected every output leaf to start with the 12 items" in message
    assert "B*T = 12 (B=2, T=6)" in message
    assert "got shape (1, 12, 4) at output[1][0]" in message
    assert "h_n/c_n are (L*D, N, U)" in message


def test_scalar_output_is_rejected() -> None:
    class Total(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.sum()

    with pytest.raises(ValueError, match=r"got shape \(\) at output"):
        TimeDistributed(Total())(torch.randn(2, 3, 4))


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match=r"expected mode to be one of 'merge', 'loop'; got 'fold'"):
        TimeDistributed(nn.Linear(1, 1), mode="fold")
    with pytest.raises(ValueError, match=r"chunk_size >= 1 or None; got 0"):
        TimeDistributed(nn.Linear(1, 1), chunk_size=0)
    with pytest.raises(TypeError, match="chunk_size to be an int or None; got float"):
        TimeDistributed(nn.Linear(1, 1), chunk_size=2.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"expected an nn\.Module to wrap; got function"):
        TimeDistributed(lambda x: x)  # type: ignore[arg-type]
