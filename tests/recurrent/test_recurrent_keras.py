"""Keras 3 (torch backend) LSTM/GRU/SimpleRNN/Bidirectional with copied weights == timedist."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

import timedist

keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":
    pytest.skip("Keras runs on another backend", allow_module_level=True)

F, U, B, T = 5, 4, 3, 6
LENGTHS = torch.tensor([T, 2, 4])
MASK = torch.arange(T) < LENGTHS[:, None]
KERAS = {"LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU, "RNN": keras.layers.SimpleRNN}
OURS = {"LSTM": timedist.LSTM, "GRU": timedist.GRU, "RNN": timedist.RNN}


def to_torch(value: Any) -> torch.Tensor:
    return torch.as_tensor(keras.ops.convert_to_numpy(value))


def build(cell: str, x: np.ndarray, **options: Any) -> tuple[Any, timedist.RNN]:
    """A built Keras layer and a timedist layer holding its weights."""
    layer = KERAS[cell](U, **options)
    layer(x)
    ours = OURS[cell](F, U, **options)
    ours.load_keras_weights(*layer.get_weights())
    return layer, ours


def split_states(cell: str, keras_out: list[Any]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    return to_torch(keras_out[0]), [to_torch(s) for s in keras_out[1:]]


def our_states(cell: str, state: Any) -> list[torch.Tensor]:
    states = list(state) if cell == "LSTM" else [state]
    return [s[0] for s in states]  # (1, B, U) -> (B, U)


@pytest.mark.parametrize("cell", sorted(KERAS))
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_sequences_and_states_match_keras(cell: str, go_backwards: bool, masked: bool) -> None:
    x = np.random.default_rng(0).standard_normal((B, T, F)).astype("float32")
    layer, ours = build(cell, x, return_sequences=True, return_state=True,
                        go_backwards=go_backwards)
    k_out, k_states = split_states(cell, layer(x, mask=MASK.numpy() if masked else None))
    out, state = ours(torch.as_tensor(x), mask=MASK if masked else None)
    mask = MASK if masked else torch.ones(B, T, dtype=torch.bool)
    for ours_s, keras_s in zip(our_states(cell, state), k_states, strict=True):
        torch.testing.assert_close(ours_s, keras_s, atol=1e-5, rtol=1e-5)
    if not (masked and go_backwards):  # there Keras keeps the padding first, timedist last
        torch.testing.assert_close(out[mask], k_out[mask], atol=1e-5, rtol=1e-5)
        assert (out[~mask] == 0).all()  # Keras repeats the last output; timedist zeroes
    if not masked:
        return
    # last valid output == Keras' return_sequences=False
    last_layer, last_ours = build(cell, x, return_sequences=False, go_backwards=go_backwards)
    torch.testing.assert_close(last_ours(torch.as_tensor(x), mask=MASK),
                               to_torch(last_layer(x, mask=MASK.numpy())), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
@pytest.mark.parametrize("masked", [False, True])
def test_bidirectional_matches_keras(cell: str, merge_mode: str, masked: bool) -> None:
    x = np.random.default_rng(2).standard_normal((B, T, F)).astype("float32")
    k_layer = keras.layers.Bidirectional(
        KERAS[cell](U, return_sequences=True, return_state=True), merge_mode=merge_mode
    )
    mask = MASK.numpy() if masked else None
    k_all = k_layer(x, mask=mask)
    ours = timedist.Bidirectional(OURS[cell](F, U, return_sequences=True, return_state=True),
                                  merge_mode=merge_mode)
    ours.forward_layer.load_keras_weights(*k_layer.forward_layer.get_weights())
    ours.backward_layer.load_keras_weights(*k_layer.backward_layer.get_weights())
    out, state_f, state_b = ours(torch.as_tensor(x), mask=MASK if masked else None)
    k_out = to_torch(k_all[0])
    valid = MASK if masked else torch.ones(B, T, dtype=torch.bool)
    torch.testing.assert_close(out[valid], k_out[valid], atol=1e-5, rtol=1e-5)
    k_states = [to_torch(s) for s in k_all[1:]]
    ours_states = our_states(cell, state_f) + our_states(cell, state_b)
    for ours_s, keras_s in zip(ours_states, k_states, strict=True):
        torch.testing.assert_close(ours_s, keras_s, atol=1e-5, rtol=1e-5)


def test_gru_reset_after_false_is_refused() -> None:
    x = np.zeros((1, 2, F), dtype="float32")
    layer = keras.layers.GRU(U, reset_after=False)
    layer(x)
    with pytest.raises(ValueError, match=r"reset_after=False has no torch equivalent"):
        timedist.GRU(F, U).load_keras_weights(*layer.get_weights())


def test_keras_bidirectional_into_torch_style_bidirectional_lstm() -> None:
    x = np.random.default_rng(3).standard_normal((B, T, F)).astype("float32")
    k_layer = keras.layers.Bidirectional(keras.layers.LSTM(U, return_sequences=True))
    expected = to_torch(k_layer(x, mask=MASK.numpy()))
    ours = timedist.LSTM(F, U, bidirectional=True)
    ours.load_keras_weights(*k_layer.forward_layer.get_weights(), direction=0)
    ours.load_keras_weights(*k_layer.backward_layer.get_weights(), direction=1)
    got = ours(torch.as_tensor(x), mask=MASK)
    torch.testing.assert_close(got[MASK], expected[MASK], atol=1e-5, rtol=1e-5)
