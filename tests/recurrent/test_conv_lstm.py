"""ConvLSTM1d/2d/3d against the equations (timedist.reference), Keras 3, and themselves."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import torch
from helpers import check_layer
from torch import Tensor, nn

import timedist
from timedist.reference import run_conv_lstm

LAYERS = {1: timedist.ConvLSTM1d, 2: timedist.ConvLSTM2d, 3: timedist.ConvLSTM3d}
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}
B, T, C, FILTERS = 3, 4, 2, 3

GEOMETRIES = [  # (kernel, stride, padding, dilation): fused and unfused paths, even kernels
    (3, 1, "same", 1), (2, 1, "same", 1), (3, 1, "valid", 1), (3, 2, "same", 1),
    (2, 2, "valid", 1), (3, 1, "same", 2), (3, 1, 1, 1),
]


def make(rank: int, kernel: Any, **options: Any) -> timedist.ConvLSTM2d:
    torch.manual_seed(0)
    layer = LAYERS[rank](C, FILTERS, kernel, **options)
    with torch.no_grad():
        layer.bias.uniform_(-0.5, 0.5)  # type: ignore[union-attr]
    return layer


def assert_tree_close(actual: Any, expected: Any) -> None:
    if isinstance(expected, Tensor):
        torch.testing.assert_close(actual, expected, atol=1e-5, rtol=1e-4)
    else:
        for a, e in zip(actual, expected, strict=True):
            assert_tree_close(a, e)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize(("kernel", "stride", "padding", "dilation"), GEOMETRIES)
def test_equals_the_equations(rank: int, kernel: int, stride: int, padding: Any,
                              dilation: int) -> None:
    layer = make(rank, kernel, stride=stride, padding=padding, dilation=dilation,
                 return_state=True)
    x = torch.randn(B, T, C, *SPATIAL[rank], requires_grad=True)
    lengths = torch.tensor([T, 1, 3])
    for lens in (None, lengths):
        got, expected = layer(x, lengths=lens), run_conv_lstm(layer, x, lengths=lens)
        assert_tree_close(got, expected)
        assert layer.compute_output_shape(tuple(x.shape)) == (got[0].shape,
                                                              (got[1][0].shape,) * 2)
    weights = [x, *layer.parameters()]
    loss = lambda out: sum((v * v.detach().sign()).sum() for v in (out[0], *out[1]))  # noqa: E731
    grads = torch.autograd.grad(loss(layer(x, lengths=lengths)), weights)
    reference = torch.autograd.grad(loss(run_conv_lstm(layer, x, lengths=lengths)), weights)
    for g, r in zip(grads, reference, strict=True):
        torch.testing.assert_close(g, r, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("options", [
    {"go_backwards": True}, {"return_sequences": False}, {"batch_first": False},
    {"go_backwards": True, "return_sequences": False, "batch_first": False},
])
def test_options_equal_the_equations(options: dict[str, Any]) -> None:
    layer = make(2, 3, return_state=True, **options)
    shape = (B, T, C, 7, 6) if options.get("batch_first", True) else (T, B, C, 7, 6)
    x = torch.randn(shape)
    lengths = torch.tensor([2, T, 1])
    hx = (torch.randn(B, FILTERS, 7, 6), torch.randn(B, FILTERS, 7, 6))
    assert_tree_close(layer(x, hx, lengths=lengths), run_conv_lstm(layer, x, hx, lengths))
    assert_tree_close(layer(x), run_conv_lstm(layer, x))


@pytest.mark.parametrize("fill", [1e3, float("nan"), float("inf")])
@pytest.mark.parametrize("fused", [True, False])
def test_padded_steps_change_nothing_and_are_zero(fill: float, fused: bool,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the padding holds — NaN and inf included — outputs, states and every
    parameter's gradient equal those of zero padding, and padded outputs are exactly 0."""
    layer = make(2, 3, return_state=True)
    monkeypatch.setattr(layer, "_fused", lambda: fused)
    x = torch.randn(B, T, C, 7, 6)
    lengths = torch.tensor([2, T, 1])
    padded = torch.arange(T) >= lengths[:, None]
    clean, noisy = x.clone(), x.clone()
    clean[padded], noisy[padded] = 0.0, fill
    results = []
    for data in (clean, noisy):
        out, (h, c) = layer(data, lengths=lengths)
        grads = torch.autograd.grad((out.sum() + h.sum() + c.sum()), list(layer.parameters()))
        results.append((out, h, c, grads))
    assert_tree_close(results[1], results[0])
    assert all(bool(torch.isfinite(g).all()) for g in results[1][3])
    assert (results[1][0][0, 2:] == 0).all() and (results[1][0][2, 1:] == 0).all()


def test_layer_check_and_keras_initialisation() -> None:
    layer = timedist.ConvLSTM2d(2, 4, 3, return_state=True)
    check_layer(layer, torch.randn(2, 3, 2, 6, 6), compile=False)
    assert torch.equal(layer.bias, torch.tensor([0.0] * 4 + [1.0] * 4 + [0.0] * 8))
    kernel = layer.weight_hh.detach().flatten(1)  # (4F, F*k*k): orthogonal rows
    torch.testing.assert_close(kernel @ kernel.t(), torch.eye(16), atol=1e-5, rtol=0)
    assert repr(layer) == "ConvLSTM2d(2, 4, kernel_size=(3, 3), return_state=True)"


def test_stateful_halves_equal_the_whole() -> None:
    whole = make(2, 3)
    stateful = copy.deepcopy(whole)
    stateful.stateful = True
    x = torch.randn(B, T, C, 7, 6)
    first, second = stateful(x[:, :2]), stateful(x[:, 2:])
    torch.testing.assert_close(torch.cat([first, second], 1), whole(x))
    stateful.reset_states()
    torch.testing.assert_close(stateful(x[:, :2]), first)


def test_dropout_masks_are_constant_over_time() -> None:
    layer = make(2, 3, dropout=0.5, recurrent_dropout=0.5)
    x = torch.ones(B, T, C, 7, 6)
    seen: list[Tensor] = []
    original = nn.functional.dropout

    def spy(t: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        mask = original(t, *args, **kwargs)
        seen.append(mask)
        return mask

    nn.functional.dropout = spy  # type: ignore[assignment]
    try:
        torch.manual_seed(1)
        y1 = layer(x)
        torch.manual_seed(1)
        y2 = layer(x)
    finally:
        nn.functional.dropout = original  # type: ignore[assignment]
    assert len(seen) == 4  # one input mask and one state mask per call, not per step
    assert seen[0].shape == (B, C, 7, 6) and seen[1].shape == (B, FILTERS, 7, 6)
    torch.testing.assert_close(y1, y2)  # same seed, same masks
    layer.eval()
    torch.testing.assert_close(layer(x), run_conv_lstm(layer, x))  # no dropout in eval


def test_bidirectional_and_sequential_and_time_distributed() -> None:
    layer = timedist.Bidirectional(make(2, 3, return_sequences=True), merge_mode="concat")
    x = torch.randn(B, T, C, 7, 6)
    lengths = torch.tensor([T, 2, 3])
    out = layer(x, lengths=lengths)
    assert out.shape == (B, T, 2 * FILTERS, 7, 6)
    forward = run_conv_lstm(layer.forward_layer, x, lengths=lengths)
    backward = run_conv_lstm(layer.backward_layer, x, lengths=lengths)
    backward = timedist.reverse_valid(backward, lengths)
    torch.testing.assert_close(out, torch.cat([forward, backward], 2), atol=1e-5, rtol=1e-4)
    forward = run_conv_lstm(layer.forward_layer, x)
    backward = run_conv_lstm(layer.backward_layer, x).flip(1)
    merged = {"sum": forward + backward, "mul": forward * backward,
              "ave": (forward + backward) / 2, None: (forward, backward)}
    for mode, expected in merged.items():
        layer.merge_mode = mode
        assert_tree_close(layer(x), expected)
    stack = nn.Sequential(timedist.ConvLSTM2d(C, 4, 3), timedist.ConvLSTM2d(4, 5, 3,
                                                                          return_sequences=False))
    assert stack(x).shape == (B, 5, 7, 6)
    per_frame = nn.Sequential(timedist.TimeDistributed(nn.Conv2d(C, C, 3, padding=1)),
                              timedist.ConvLSTM2d(C, 4, 3))
    assert per_frame(x).shape == (B, T, 4, 7, 6)


def test_errors() -> None:
    layer = timedist.ConvLSTM2d(2, 4, 3, padding="valid")
    with pytest.raises(ValueError, match=r"ConvLSTM2d: expected input \(B, T, C, H, W\) with C=2; "
                       r"got shape \(2, 2, 8, 8\)\. Add the time dimension"):
        layer(torch.randn(2, 2, 8, 8))
    with pytest.raises(ValueError, match=r"with C=2; got shape \(2, 3, 1, 8, 8\)"):
        layer(torch.randn(2, 3, 1, 8, 8))
    with pytest.raises(ValueError, match=r"spatial dims at least the kernel \(3, 3\) "
                       r"\(padding='valid'\); got shape \(2, 3, 2, 2, 8\)"):
        layer(torch.randn(2, 3, 2, 2, 8))
    with pytest.raises(ValueError, match=r"expected h0 \(B, F, \*S'\) = \(2, 4, 6, 6\); "
                       r"got shape \(2, 4, 8, 8\)"):
        layer(torch.randn(2, 3, 2, 8, 8), (torch.randn(2, 4, 8, 8), torch.randn(2, 4, 6, 6)))
    with pytest.raises(ValueError, match="stride 1 when dilation > 1"):
        timedist.ConvLSTM2d(2, 4, 3, stride=2, dilation=2)
    with pytest.raises(ValueError, match=r"kernel_size to be an int or a tuple of 2 ints"):
        timedist.ConvLSTM2d(2, 4, (3, 3, 3))
    with pytest.raises(ValueError, match=r"padding to be one of 'same', 'valid'"):
        timedist.ConvLSTM2d(2, 4, 3, padding="full")
    with pytest.raises(ValueError, match=r"dropout in \[0, 1\)"):
        timedist.ConvLSTM2d(2, 4, 3, dropout=1.0)


# -- Keras 3 with copied weights ----------------------------------------------------------------


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize(("kernel", "stride", "padding"),
                         [(3, 1, "same"), (3, 1, "valid"), (3, 2, "same"), (2, 2, "valid"),
                          (2, 1, "same")])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_matches_keras(rank: int, kernel: int, stride: int, padding: str,
                       go_backwards: bool) -> None:
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("Keras runs on another backend")
    cls = {1: keras.layers.ConvLSTM1D, 2: keras.layers.ConvLSTM2D, 3: keras.layers.ConvLSTM3D}
    x = np.random.default_rng(rank).standard_normal((2, T, C, *SPATIAL[rank])).astype("float32")
    k_layer = cls[rank](FILTERS, kernel, strides=stride, padding=padding,
                        data_format="channels_first", return_sequences=True,
                        return_state=True, go_backwards=go_backwards)
    k_out = [torch.as_tensor(keras.ops.convert_to_numpy(v)) for v in k_layer(x)]
    ours = LAYERS[rank](C, FILTERS, kernel, stride=stride, padding=padding, return_state=True,
                        go_backwards=go_backwards)
    ours.load_keras_weights(*k_layer.get_weights())
    out, (h, c) = ours(torch.as_tensor(x))
    for mine, theirs in zip((out, h, c), k_out, strict=True):
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-5)
