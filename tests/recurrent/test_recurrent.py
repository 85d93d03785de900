"""timedist.RNN/LSTM/GRU against torch.nn.RNN/LSTM/GRU run sample by sample."""

from __future__ import annotations

import copy
import itertools
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check_layer
from torch import Tensor, nn

import timedist

CELLS = {"RNN": (nn.RNN, timedist.RNN), "LSTM": (nn.LSTM, timedist.LSTM),
         "GRU": (nn.GRU, timedist.GRU)}
F, U, B, T = 5, 4, 3, 6


def pair(cell: str, **config: Any) -> tuple[nn.RNNBase, nn.RNNBase]:
    """(torch module, timedist module) of the same configuration and weights."""
    torch_cls, ours_cls = CELLS[cell]
    reference = torch_cls(F, U, **config)
    ours = ours_cls(F, U, **config)
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def reference_run(
    module: nn.RNNBase, x: Tensor, lengths: Tensor | None, batch_first: bool
) -> tuple[Tensor, Any]:
    """torch on each sample cut to its length.

    Returns the output (B, T, D*U), zero-padded, and the states (L*D, B, ·).
    """
    xb = x if batch_first else x.transpose(0, 1)
    outs, states = [], []
    for b in range(xb.shape[0]):
        n = xb.shape[1] if lengths is None else int(lengths[b])
        sample = xb[b : b + 1, :n]
        out, state = module(sample if batch_first else sample.transpose(0, 1))
        out = out if batch_first else out.transpose(0, 1)
        outs.append(torch.cat([out[0], out.new_zeros(xb.shape[1] - n, out.shape[-1])]))
        states.append(state)
    out = torch.stack(outs)
    if isinstance(states[0], tuple):
        state: Any = tuple(torch.cat([s[i] for s in states], dim=1) for i in range(2))
    else:
        state = torch.cat(states, dim=1)
    return (out if batch_first else out.transpose(0, 1)), state


def keras_format(out: Tensor, lengths: Tensor | None, *, bidirectional: bool, batch_first: bool,
                 merge_mode: str | None, return_sequences: bool) -> Any:
    """What the Keras options mean, written out from torch's output."""
    xb = out if batch_first else out.transpose(0, 1)
    fwd, bwd = (xb[..., :U], xb[..., U:]) if bidirectional else (xb, None)
    if not return_sequences:
        last = (torch.full((xb.shape[0],), xb.shape[1]) if lengths is None else lengths) - 1
        fwd = fwd[torch.arange(xb.shape[0]), last]
        bwd = None if bwd is None else bwd[:, 0]
    elif not batch_first:
        fwd = fwd.transpose(0, 1)
        bwd = None if bwd is None else bwd.transpose(0, 1)
    if bwd is None:
        return fwd
    return {"concat": lambda: torch.cat([fwd, bwd], -1), "sum": lambda: fwd + bwd,
            "mul": lambda: fwd * bwd, "ave": lambda: (fwd + bwd) / 2,
            None: lambda: (fwd, bwd)}[merge_mode]()


def assert_tree_close(actual: Any, expected: Any) -> None:
    if isinstance(expected, Tensor):
        torch.testing.assert_close(actual, expected)
    else:
        assert type(actual) is type(expected) and len(actual) == len(expected)
        for a, e in zip(actual, expected, strict=True):
            assert_tree_close(a, e)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize(
    ("num_layers", "bidirectional", "batch_first", "bias", "padded"),
    [c for c in itertools.product((1, 2), (False, True), (True, False), (True, False),
                                  (False, True))
     if c[3] or c[0] == 1],  # bias=False on one-layer models only, to keep the matrix small
)
def test_equals_torch_run_sample_by_sample(
    cell: str, num_layers: int, bidirectional: bool, batch_first: bool, bias: bool, padded: bool
) -> None:
    torch.manual_seed(0)
    config = {"num_layers": num_layers, "bidirectional": bidirectional,
              "batch_first": batch_first, "bias": bias}
    reference, ours = pair(cell, **config)
    x = torch.randn((B, T, F) if batch_first else (T, B, F))
    lengths = torch.tensor([T, 2, 4]) if padded else None  # unsorted, one full
    ref_out, ref_state = reference_run(reference, x, lengths, batch_first)

    for merge_mode, return_sequences, return_state in itertools.product(
        ("concat", "sum", "mul", "ave", None), (True, False), (False, True)
    ):
        ours.merge_mode, ours.return_sequences, ours.return_state = (
            merge_mode, return_sequences, return_state)
        got = ours(x, lengths=lengths)
        expected: Any = keras_format(ref_out, lengths, bidirectional=bidirectional,
                                     batch_first=batch_first, merge_mode=merge_mode,
                                     return_sequences=return_sequences)
        if return_state:
            expected = (expected, ref_state)
        assert_tree_close(got, expected)
        assert ours.compute_output_shape(tuple(x.shape)) == _shapes(got)


def _shapes(tree: Any) -> Any:
    return tree.shape if isinstance(tree, Tensor) else tuple(_shapes(t) for t in tree)


@pytest.mark.parametrize("cell", sorted(CELLS))
@pytest.mark.parametrize("bidirectional", [False, True])  # unidirectional: the unpacked path
def test_gradients_equal_torch_with_lengths(cell: str, bidirectional: bool) -> None:
    torch.manual_seed(1)
    reference, ours = pair(cell, num_layers=2, bidirectional=bidirectional, batch_first=True)
    x = torch.randn(B, T, F)
    lengths = torch.tensor([3, T, 1])
    weight = torch.randn(B, T, (1 + bidirectional) * U)
    xs = [x.clone().requires_grad_(), x.clone().requires_grad_()]
    (reference_run(reference, xs[0], lengths, True)[0] * weight).sum().backward()
    (ours(xs[1], lengths=lengths) * weight).sum().backward()
    torch.testing.assert_close(xs[1].grad, xs[0].grad)
    assert (xs[1].grad[1:, :] != 0).any() and (xs[1].grad[2, 1:] == 0).all()
    for (name, p), q in zip(reference.named_parameters(), ours.parameters(), strict=True):
        torch.testing.assert_close(q.grad, p.grad, msg=name)


def test_mask_equals_lengths_and_lengths_may_live_anywhere() -> None:
    _, ours = pair("LSTM", bidirectional=True)
    x = torch.randn(B, T, F)
    lengths = torch.tensor([2, T, 5])
    mask = torch.arange(T) < lengths[:, None]
    torch.testing.assert_close(ours(x, mask=mask), ours(x, lengths=lengths))
    torch.testing.assert_close(ours(x, lengths=lengths.tolist()), ours(x, lengths=lengths))


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_nan_padding_reaches_neither_outputs_nor_gradients(cell: str) -> None:
    for ours in (pair(cell)[1], pair(cell, bidirectional=True)[1]):  # unpacked and packed paths
        x = torch.randn(B, T, F)
        lengths = torch.tensor([2, T, 4])
        x[torch.arange(T) >= lengths[:, None]] = float("nan")
        x.requires_grad_()
        out = ours(x, lengths=lengths)
        out.sum().backward()
        assert torch.isfinite(out).all() and torch.isfinite(x.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in ours.parameters())


def test_padded_steps_change_nothing() -> None:
    _, ours = pair("GRU", num_layers=2, bidirectional=True)
    ours.return_state = True
    x = torch.randn(B, T, F)
    lengths = torch.tensor([2, T, 4])
    noisy = x.clone()
    noisy[torch.arange(T) >= lengths[:, None]] = 1e3  # garbage in the padding
    out, h = ours(x, lengths=lengths)
    out2, h2 = ours(noisy, lengths=lengths)
    torch.testing.assert_close(out, out2)
    torch.testing.assert_close(h, h2)
    assert (out[0, 2:] == 0).all()


def test_proj_size_lstm() -> None:
    reference, ours = pair("LSTM", proj_size=3, bidirectional=True, batch_first=True)
    ours.return_state, ours.return_sequences = True, False
    x = torch.randn(B, T, F)
    lengths = torch.tensor([T, 1, 3])
    out, (h, c) = ours(x, lengths=lengths)
    assert out.shape == (B, 6) and h.shape == (2, B, 3) and c.shape == (2, B, U)
    ref_out, (ref_h, ref_c) = reference_run(reference, x, lengths, True)
    last = ref_out[torch.arange(B), lengths - 1, :3]
    torch.testing.assert_close(out, torch.cat([last, ref_out[:, 0, 3:]], -1))
    torch.testing.assert_close((h, c), (ref_h, ref_c))
    assert ours.compute_output_shape((B, T, F)) == (out.shape, (h.shape, c.shape))


def test_go_backwards_reverses_the_valid_steps_like_keras() -> None:
    reference, ours = pair("LSTM", batch_first=True)
    ours.go_backwards = True
    x = torch.randn(B, T, F)
    torch.testing.assert_close(ours(x), reference(x.flip(1))[0])
    lengths = torch.tensor([T, 2, 4])
    got = ours(x, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        torch.testing.assert_close(got[b, :n], reference(x[b : b + 1, :n].flip(1))[0][0])
        assert (got[b, n:] == 0).all()


def test_hx_in_torch_layout_and_state_dict_interchange() -> None:
    reference, ours = pair("LSTM", num_layers=2, batch_first=True)
    h0, c0 = torch.randn(2, B, U), torch.randn(2, B, U)
    x = torch.randn(B, T, F)
    torch.testing.assert_close(ours(x, (h0, c0)), reference(x, (h0, c0))[0])
    back = nn.LSTM(F, U, num_layers=2, batch_first=True)
    back.load_state_dict(ours.state_dict())
    torch.testing.assert_close(back(x)[0], ours(x))


def test_layer_check_helper() -> None:
    torch.manual_seed(0)
    for layer in (timedist.LSTM(F, U, bidirectional=True, return_state=True),
                  timedist.GRU(F, U, return_sequences=False),
                  timedist.RNN(F, U, nonlinearity="relu", merge_mode="sum", bidirectional=True)):
        # Dynamo graph-breaks on torch's RNNs (pytorch#141184): no fullgraph compile here.
        check_layer(layer, torch.randn(B, T, F), compile=False)


def test_sequential_cnn_lstm_classifier_without_indexing() -> None:
    cnn = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten())
    model = nn.Sequential(
        timedist.TimeDistributed(cnn),
        timedist.LSTM(4, 8, return_sequences=False),
        nn.Linear(8, 3),
    )
    clip = torch.randn(2, 5, 1, 12, 12)
    logits = model(clip)
    assert logits.shape == (2, 3)
    lstm = nn.LSTM(4, 8, batch_first=True)
    lstm.load_state_dict(model[1].state_dict())
    expected = model[2](lstm(model[0](clip))[0][:, -1])
    torch.testing.assert_close(logits, expected)


def test_per_step_regression_in_sequential() -> None:
    model = nn.Sequential(timedist.GRU(F, U), nn.Linear(U, 1))
    assert model(torch.randn(B, T, F)).shape == (B, T, 1)


# -- stateful ------------------------------------------------------------------------------------


def test_stateful_two_halves_equal_the_whole_and_reset() -> None:
    torch.manual_seed(0)
    _, whole = pair("LSTM", num_layers=2, bidirectional=False)
    stateful = copy.deepcopy(whole)
    stateful.stateful = True
    x = torch.randn(B, T, F)
    first, second = stateful(x[:, :3]), stateful(x[:, 3:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole(x))
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :3]), first)


def test_stateful_training_steps_do_not_backward_twice() -> None:
    layer = timedist.GRU(F, U, stateful=True)
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        layer(torch.randn(B, T, F)).pow(2).mean().backward()
        optimizer.step()
    with pytest.raises(ValueError, match=r"stateful=True\): expected input with B=3, the batch "
                       r"size of the stored states; got shape \(2, 6, 5\)"):
        layer(torch.randn(2, T, F))


# -- errors --------------------------------------------------------------------------------------


def test_errors_name_expected_and_received() -> None:
    lstm = timedist.LSTM(F, U, num_layers=2)
    with pytest.raises(ValueError, match=r"LSTM: expected input \(B, T, F\) with F=5 and T >= 1; "
                       r"got shape \(6, 5\)\. Add the batch dimension"):
        lstm(torch.randn(T, F))
    with pytest.raises(ValueError, match=r"got shape \(3, 6, 4\)$"):
        lstm(torch.randn(B, T, 4))
    with pytest.raises(ValueError, match=r"expected h0 \(2, 3, 4\) in torch's layout "
                       r"\(L\*D, B, U\); batch_first does not change it; got shape \(3, 2, 4\)"
                       r"\. It looks batch-first: pass h0.transpose\(0, 1\)"):
        lstm(torch.randn(B, T, F), (torch.randn(B, 2, U), torch.randn(2, B, U)))
    with pytest.raises(TypeError, match=r"expected hx = \(h0, c0\) for an LSTM; got Tensor"):
        lstm(torch.randn(B, T, F), torch.randn(2, B, U))
    with pytest.raises(ValueError, match=r"lengths \(B,\) = \(3,\) of integers in \[1, T=6\]; "
                       r"got shape \(3,\) with values \[6, 0, 2\]"):
        lstm(torch.randn(B, T, F), lengths=torch.tensor([6, 0, 2]))
    with pytest.raises(ValueError, match=r"with values \[7, 1, 2\]"):
        lstm(torch.randn(B, T, F), lengths=torch.tensor([7, 1, 2]))
    with pytest.raises(ValueError, match=r"LSTM: expected a \(B, T\) prefix mask .* sample 0"):
        lstm(torch.randn(B, T, F), mask=torch.tensor([[1, 0, 1, 1, 1, 1]] * 3).bool())
    with pytest.raises(ValueError, match=r"GRU: expected merge_mode to be one of 'concat', 'sum', "
                       r"'mul', 'ave', None; got 'max'"):
        timedist.GRU(F, U, merge_mode="max")


def test_time_distributed_lstm_encodes_every_sub_sequence() -> None:
    reference, ours = pair("LSTM", batch_first=True)
    ours.return_sequences = False
    x = torch.randn(2, 3, T, F)  # (B, T, S, F): 3 windows of T samples each
    y = timedist.TimeDistributed(ours)(x)
    assert y.shape == (2, 3, U)
    torch.testing.assert_close(y[1, 2], reference(x[1, 2:3])[0][0, -1])


def test_torch_arguments_pass_through() -> None:
    reference, ours = pair("GRU", num_layers=2, dropout=0.5, bias=False, batch_first=True)
    reference.eval(), ours.eval()
    x = torch.randn(B, T, F)
    torch.testing.assert_close(ours(x), reference(x)[0])
    rnn = timedist.RNN(F, U, 2, nonlinearity="relu")  # positional num_layers, like torch
    assert rnn.num_layers == 2 and rnn.nonlinearity == "relu" and rnn.batch_first


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_unpacked_bidirectional_path_with_hx_dropout_and_lengths(cell: str) -> None:
    # return_state=False on the CPU: each layer and direction runs unpacked (fast path).
    torch.manual_seed(3)
    reference, ours = pair(cell, num_layers=2, bidirectional=True, dropout=0.5, batch_first=True)
    reference.eval(), ours.eval()
    x = torch.randn(B, T, F)
    lengths = torch.tensor([4, T, 1])
    h0 = torch.randn(4, B, U)
    hx: Any = (h0, torch.randn(4, B, U)) if cell == "LSTM" else h0
    got = ours(x, hx, lengths=lengths)
    for b, n in enumerate(lengths.tolist()):
        hb = tuple(h[:, b : b + 1] for h in hx) if cell == "LSTM" else hx[:, b : b + 1]
        torch.testing.assert_close(got[b, :n], reference(x[b : b + 1, :n], hb)[0][0])
    assert (got[2, 1:] == 0).all()
    ours.train()  # dropout between layers: random, but padding stays zero and nothing breaks
    out = ours(x, hx, lengths=lengths)
    assert (out[2, 1:] == 0).all() and torch.isfinite(out).all()


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "RNN"])
def test_a_first_call_draws_nothing_from_the_global_generator(cell: str) -> None:
    """The unpacked path builds a template module on its first call; that must not consume
    random numbers (it shifted later dropout masks and broke exact resumption of training)."""
    layer = getattr(timedist, cell)(F, U, bidirectional=True).eval()
    state = torch.get_rng_state()
    layer(torch.randn(B, T, F, generator=torch.Generator().manual_seed(0)),
          lengths=torch.tensor([T, 2, 1]))
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize(("make", "arrays", "message"), [
    (lambda: timedist.LSTM(3, 4), lambda: (np.ones((3, 16)), np.ones((4, 16)), np.float32(1.0)),
     r"expected a Keras bias \(16,\); got shape \(\)"),
    (lambda: timedist.LSTM(3, 4), lambda: (np.ones((3, 16)), np.ones((4, 16)), np.ones(12)),
     r"expected a Keras bias \(16,\); got shape \(12,\)"),
    (lambda: timedist.LSTM(3, 4, bias=False),
     lambda: (np.ones((3, 16)), np.ones((4, 16)), np.ones(16)),
     r"expected no Keras bias for a layer built with bias=False"),
    (lambda: timedist.RNN(3, 4), lambda: (np.ones((3, 4)), np.ones((4, 4)), np.ones((2, 4))),
     r"expected a Keras bias \(4,\); got shape \(2, 4\)"),
    (lambda: timedist.ConvLSTM2d(2, 3, 3),
     lambda: (np.ones((3, 3, 2, 12)), np.ones((3, 3, 3, 12)), np.ones(11)),
     r"expected a Keras bias \(4F,\) = \(12,\); got shape \(11,\)"),
    (lambda: timedist.ConvLSTM2d(2, 3, 3, bias=False),
     lambda: (np.ones((3, 3, 2, 12)), np.ones((3, 3, 3, 12)), np.ones(12)),
     r"expected no Keras bias for a layer built with bias=False"),
])
def test_keras_weights_are_all_checked_before_any_is_written(make: Any, arrays: Any,
                                                             message: str) -> None:
    layer = make()
    before = {k: v.clone() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match=message):
        layer.load_keras_weights(*arrays())
    for key, value in layer.state_dict().items():
        assert torch.equal(value, before[key]), key  # nothing half-loaded
