"""Bidirectional(layer) against torch's own bidirectional RNNs with the same weights."""

from __future__ import annotations

import itertools

import pytest
import torch
from helpers import check_layer
from test_recurrent import CELLS, B, F, T, U, assert_tree_close, keras_format, reference_run
from torch import nn

import timedist


def bidirectional_pair(cell: str, batch_first: bool) -> tuple[nn.RNNBase, timedist.Bidirectional]:
    torch_cls, ours_cls = CELLS[cell]
    reference = torch_cls(F, U, bidirectional=True, batch_first=batch_first)
    layer = timedist.Bidirectional(ours_cls(F, U, batch_first=batch_first))
    state = reference.state_dict()
    layer.forward_layer.load_state_dict({k: v for k, v in state.items() if "reverse" not in k})
    layer.backward_layer.load_state_dict(
        {k.replace("_reverse", ""): v for k, v in state.items() if "reverse" in k}
    )
    return reference, layer


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize(
    ("batch_first", "padded"), list(itertools.product((True, False), repeat=2))
)
def test_equals_torch_bidirectional_with_copied_weights(
    cell: str, batch_first: bool, padded: bool
) -> None:
    torch.manual_seed(0)
    reference, layer = bidirectional_pair(cell, batch_first)
    x = torch.randn((B, T, F) if batch_first else (T, B, F))
    lengths = torch.tensor([3, T, 1]) if padded else None
    ref_out, ref_state = reference_run(reference, x, lengths, batch_first)
    for merge_mode, return_sequences, return_state in itertools.product(
        ("concat", "sum", "mul", "ave", None), (True, False), (False, True)
    ):
        layer.merge_mode = merge_mode
        for inner in (layer.forward_layer, layer.backward_layer):
            inner.return_sequences, inner.return_state = return_sequences, return_state
        got = layer(x, lengths=lengths)
        expected = keras_format(ref_out, lengths, bidirectional=True, batch_first=batch_first,
                                merge_mode=merge_mode, return_sequences=return_sequences)
        if return_state:
            halves = [tuple(s[i : i + 1] for s in ref_state) if cell == "LSTM"
                      else ref_state[i : i + 1] for i in (0, 1)]
            expected = (expected, *halves)
        assert_tree_close(got, expected)


def test_default_backward_layer_is_a_fresh_reversed_copy() -> None:
    layer = timedist.Bidirectional(timedist.LSTM(F, U, num_layers=2))
    assert layer.backward_layer.go_backwards and not layer.forward_layer.go_backwards
    assert layer.backward_layer.num_layers == 2
    assert not torch.equal(layer.backward_layer.weight_ih_l0, layer.forward_layer.weight_ih_l0)
    assert {k.split(".")[0] for k in layer.state_dict()} == {"forward_layer", "backward_layer"}
    assert "merge_mode='sum'" in repr(timedist.Bidirectional(timedist.GRU(F, U), merge_mode="sum"))


def test_layer_check_and_stateful_passthrough() -> None:
    torch.manual_seed(0)
    for merge_mode in ("ave", "concat", None):  # check_layer compares compute_output_shape too
        layer = timedist.Bidirectional(timedist.LSTM(F, U, return_state=True),
                                       merge_mode=merge_mode)
        check_layer(layer, torch.randn(B, T, F), compile=False)
    sequence = timedist.Bidirectional(timedist.GRU(F, U, return_sequences=False))
    check_layer(sequence, torch.randn(B, T, F), compile=False)
    stateful = timedist.Bidirectional(timedist.GRU(F, U, stateful=True))
    first = stateful(torch.randn(B, T, F))
    assert stateful.forward_layer._states is not None
    stateful.reset_states()
    assert stateful.forward_layer._states is None and stateful.backward_layer._states is None
    assert first.shape == (B, T, 2 * U)


def test_initial_states_for_both_directions() -> None:
    reference, layer = bidirectional_pair("LSTM", batch_first=True)
    h0, c0 = torch.randn(2, B, U), torch.randn(2, B, U)
    x = torch.randn(B, T, F)
    got = layer(x, ((h0[:1], c0[:1]), (h0[1:], c0[1:])))
    torch.testing.assert_close(got, reference(x, (h0, c0))[0])


def test_errors() -> None:
    with pytest.raises(TypeError, match=r"Bidirectional\(Linear\): expected layer to be a timedist "
                       r"recurrent layer .*; got Linear"):
        timedist.Bidirectional(nn.Linear(2, 2))
    with pytest.raises(TypeError, match=r"got LSTM"):
        timedist.Bidirectional(nn.LSTM(2, 2))  # torch's own LSTM has no Keras options
    with pytest.raises(ValueError, match=r"expected a unidirectional layer; got "
                       r"LSTM\(bidirectional=True\)"):
        timedist.Bidirectional(timedist.LSTM(2, 2, bidirectional=True))
    with pytest.raises(ValueError, match=r"backward_layer.go_backwards = True"):
        timedist.Bidirectional(timedist.GRU(2, 2), backward_layer=timedist.GRU(2, 2))
    with pytest.raises(ValueError, match=r"backward_layer.return_state == layer.return_state"):
        timedist.Bidirectional(timedist.GRU(2, 2),
                               backward_layer=timedist.GRU(2, 2, go_backwards=True,
                                                           return_state=True))
    with pytest.raises(ValueError, match=r"merge_mode to be one of"):
        timedist.Bidirectional(timedist.GRU(2, 2), merge_mode="max")
    with pytest.raises(TypeError, match=r"hx = \(forward_hx, backward_hx\)"):
        timedist.Bidirectional(timedist.GRU(2, 2))(torch.randn(1, 3, 2), torch.zeros(2, 1, 2))
