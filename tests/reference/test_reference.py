"""timedist.reference reproduces the textbook numbers and torch itself."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

import timedist
from timedist import reference

X = torch.tensor([[[0.0, 1, 2], [3, 4, 5], [6, 7, 8]], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]]])
K = torch.tensor([[[0.0, 1], [2, 3]], [[1.0, 2], [3, 4]]])


def test_textbook_multi_input_and_multi_output_channels() -> None:
    torch.testing.assert_close(reference.corr2d_multi_in(X, K),
                               torch.tensor([[56.0, 72], [104, 120]]))
    stacked = torch.stack([K, K + 1, K + 2])  # (c_o=3, c_i=2, 2, 2)
    torch.testing.assert_close(
        reference.corr2d_multi_in_out(X, stacked),
        torch.tensor([[[56.0, 72], [104, 120]], [[76, 100], [148, 172]],
                      [[96, 128], [192, 224]]]),
    )


def test_one_by_one_convolution_is_a_matrix_product() -> None:
    torch.manual_seed(0)
    x, k = torch.normal(0, 1, (3, 3, 3)), torch.normal(0, 1, (2, 3, 1, 1))
    torch.testing.assert_close(reference.corr2d_multi_in_out_1x1(x, k),
                               reference.corr2d_multi_in_out(x, k))


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), ((1, 2), (2, 0))])
def test_every_conv_function_equals_torch_conv2d(stride: Any, padding: Any) -> None:
    torch.manual_seed(1)
    x, w, b = torch.randn(2, 3, 7, 6), torch.randn(4, 3, 3, 2), torch.randn(4)
    expected = F.conv2d(x, w, b, stride=stride, padding=padding)
    torch.testing.assert_close(reference.conv2d(x, w, b, stride, padding), expected)
    plain = F.conv2d(x, w)
    torch.testing.assert_close(reference.corr2d_multi_in_out(x[0], w), plain[0])
    torch.testing.assert_close(reference.corr2d_multi_in(x[0], w[1]), plain[0, 1])
    torch.testing.assert_close(reference.corr2d(x[0, 0], w[1, 0]), F.conv2d(
        x[:1, :1], w[1:2, :1])[0, 0])
    ones = torch.randn(5, 3, 1, 1)
    torch.testing.assert_close(reference.corr2d_multi_in_out_1x1(x[1], ones),
                               F.conv2d(x[1:2], ones)[0])


def test_a_loop_of_rnn_cells_equals_torch_rnn() -> None:
    torch.manual_seed(2)
    rnn = nn.RNN(4, 2)  # seq_len=3, batch=2, input_size=4, hidden_size=2
    x, h = torch.randn(3, 2, 4), torch.zeros(2, 2)
    outputs = []
    for t in range(3):
        h = reference.rnn_cell(x[t], h, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0,
                               rnn.bias_hh_l0)
        outputs.append(h)
    out, h_n = rnn(x)
    torch.testing.assert_close(torch.stack(outputs), out)
    torch.testing.assert_close(h, h_n[0])


def test_cells_equal_torch_cell_functions() -> None:
    torch.manual_seed(3)
    x, h, c = torch.randn(2, 4), torch.randn(2, 3), torch.randn(2, 3)
    for gates, ours, theirs in ((4, lambda *a: reference.lstm_cell(x, (h, c), *a),
                                 lambda *a: torch.lstm_cell(x, (h, c), *a)),
                                (3, lambda *a: reference.gru_cell(x, h, *a),
                                 lambda *a: torch.gru_cell(x, h, *a)),
                                (1, lambda *a: reference.rnn_cell(x, h, *a, nonlinearity="relu"),
                                 lambda *a: torch.rnn_relu_cell(x, h, *a))):
        weights = (torch.randn(gates * 3, 4), torch.randn(gates * 3, 3), torch.randn(gates * 3),
                   torch.randn(gates * 3))
        torch.testing.assert_close(ours(*weights), theirs(*weights))


def _grads(out: Any, wrt: list[Tensor]) -> tuple[Tensor, ...]:
    leaves = [v for v in torch.utils._pytree.tree_leaves(out) if isinstance(v, Tensor)]
    loss = sum((v * torch.linspace(-1, 1, v.numel()).view_as(v)).sum() for v in leaves)
    return torch.autograd.grad(loss, wrt)


@pytest.mark.parametrize("cell", [nn.RNN, nn.LSTM, nn.GRU])
@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first"),
                         list(itertools.product((1, 2, 3), (False, True), (False, True))))
def test_run_recurrent_equals_torch(cell: type[nn.RNNBase], num_layers: int,
                                    bidirectional: bool, batch_first: bool) -> None:
    torch.manual_seed(4)
    module = cell(4, 3, num_layers=num_layers, bidirectional=bidirectional,
                  batch_first=batch_first)
    x = torch.randn((2, 5, 4) if batch_first else (5, 2, 4), requires_grad=True)
    wrt = [x, *module.parameters()]
    expected, ours = module(x), reference.run_recurrent(module, x)
    torch.testing.assert_close(ours, expected)
    for g, h in zip(_grads(ours, wrt), _grads(expected, wrt), strict=True):
        torch.testing.assert_close(g, h)


def test_run_recurrent_with_hx_and_projection() -> None:
    torch.manual_seed(5)
    module = nn.LSTM(4, 5, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    x = torch.randn(2, 6, 4)
    hx = (torch.randn(4, 2, 2), torch.randn(4, 2, 5))
    expected = module(x, hx)
    torch.testing.assert_close(reference.run_recurrent(module, x, hx), expected)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
@pytest.mark.parametrize("return_sequences", [True, False])
def test_run_recurrent_reproduces_timedist_layers(merge_mode: str | None,
                                                  return_sequences: bool) -> None:
    torch.manual_seed(6)
    layer = timedist.GRU(4, 3, num_layers=2, bidirectional=True, merge_mode=merge_mode,
                         return_sequences=return_sequences, return_state=True)
    x = torch.randn(2, 5, 4)
    torch.testing.assert_close(reference.run_recurrent(layer, x), layer(x))
    backwards = timedist.LSTM(4, 3, go_backwards=True, return_state=True)
    torch.testing.assert_close(reference.run_recurrent(backwards, x), backwards(x))


def test_dropout_in_training_is_refused() -> None:
    with pytest.raises(ValueError, match=r"module.eval\(\)"):
        reference.run_recurrent(nn.GRU(2, 2, num_layers=2, dropout=0.5), torch.randn(3, 1, 2))
