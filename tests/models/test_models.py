"""timedist.models: each model equals its layers composed by hand; lengths reach every layer."""

from __future__ import annotations

import pytest
import torch
from helpers import check_layer
from torch import Tensor, nn

import timedist
from timedist.models import (
    CNNLSTM,
    ConvLSTMForecaster,
    SequenceClassifier,
    SequenceRegressor,
    frame_encoder,
    subsequence_encoder,
    to_subsequences,
)


def test_sequence_classifier_is_an_lstm_read_to_each_length_then_a_head() -> None:
    torch.manual_seed(0)
    model = SequenceClassifier(12, 9, hidden_size=16, bidirectional=True).eval()
    x, lengths = torch.randn(3, 10, 12), torch.tensor([10, 4, 7])
    reference = nn.LSTM(12, 16, bidirectional=True, batch_first=True)
    reference.load_state_dict(model.rnn.state_dict())
    expected = []
    for b, n in enumerate(lengths.tolist()):
        out = reference(x[b : b + 1, :n])[0][0]
        expected.append(model.head(torch.cat([out[-1, :16], out[0, 16:]])))
    torch.testing.assert_close(model(x, lengths=lengths), torch.stack(expected))
    check_layer(model, x, compile=False)


def test_sequence_regressor_last_step_and_per_step() -> None:
    last = SequenceRegressor(1, 3, hidden_size=8, cell="gru")
    assert last(torch.randn(5, 20, 1)).shape == (5, 3)
    per_step = SequenceRegressor(2, 1, per_step=True, hidden_size=8)
    y = per_step(torch.randn(2, 6, 2), lengths=torch.tensor([6, 3]))
    assert y.shape == (2, 6, 1)
    torch.testing.assert_close(y[1, 3:], per_step.head.bias.expand(3, 1))  # padded steps: 0 in
    with pytest.raises(ValueError, match="expected cell 'lstm' or 'gru'; got 'rnn'"):
        SequenceRegressor(1, cell="rnn")


def test_cnn_lstm_skips_padded_frames_and_equals_the_composition() -> None:
    torch.manual_seed(1)
    model = CNNLSTM(frame_encoder(1, features=16, width=8), 16, 5, hidden_size=12).eval()
    encoded: list[Tensor] = []
    hook = model.encoder.module.register_forward_hook(lambda m, a, out: encoded.append(out))
    x, lengths = torch.randn(2, 6, 1, 16, 16), torch.tensor([6, 2])
    logits = model(x, lengths=lengths)
    hook.remove()
    assert encoded[0].shape == (8, 16)  # 6 + 2 frames encoded, not 12
    with torch.no_grad():
        expected = []
        for b, n in enumerate(lengths.tolist()):
            frames = model.encoder.module(x[b, :n])  # (n, 16)
            expected.append(model.head(model.rnn(frames.unsqueeze(0))[0]))
    torch.testing.assert_close(logits, torch.stack(expected), atol=1e-5, rtol=1e-4)
    check_layer(model.train(), x, compile=False)


def test_cnn_lstm_over_subsequences_of_a_signal() -> None:
    signal = torch.randn(4, 128, 9)  # (B, L, C): a HAR window
    parts = to_subsequences(signal, 4)
    assert parts.shape == (4, 4, 9, 32)
    torch.testing.assert_close(parts[1, 2, 5], signal[1, 64:96, 5])
    model = CNNLSTM(subsequence_encoder(9, features=32), 32, 6, hidden_size=16, bidirectional=True)
    assert model(parts).shape == (4, 6)
    with pytest.raises(ValueError, match=r"L divisible by n=5; got shape \(4, 128, 9\)"):
        to_subsequences(signal, 5)
    model.eval()
    split_inside = CNNLSTM(subsequence_encoder(9, features=32), 32, 6, hidden_size=16,
                           bidirectional=True, subsequences=4).eval()
    split_inside.load_state_dict(model.state_dict())  # the same parameters
    torch.testing.assert_close(split_inside(signal), model(parts))
    with pytest.raises(ValueError, match=r"expected fixed-length windows with subsequences=4"):
        split_inside(signal, lengths=torch.tensor([128, 100, 128, 128]))


def test_relative_regressor_adds_the_last_observed_value() -> None:
    torch.manual_seed(0)
    base = SequenceRegressor(2, 3, hidden_size=8).eval()
    relative = SequenceRegressor(2, 3, hidden_size=8, relative=True).eval()
    relative.load_state_dict(base.state_dict())
    x, lengths = torch.randn(4, 6, 2), torch.tensor([6, 2, 4, 1])
    last = torch.stack([x[b, n - 1, 0] for b, n in enumerate(lengths.tolist())])
    torch.testing.assert_close(relative(x, lengths=lengths),
                               base(x, lengths=lengths) + last[:, None])
    mask = torch.arange(6) < lengths[:, None]
    torch.testing.assert_close(relative(x, mask=mask), relative(x, lengths=lengths))
    torch.testing.assert_close(relative(x), base(x) + x[:, -1, :1])
    with pytest.raises(ValueError, match=r"relative=True with a last-step head"):
        SequenceRegressor(2, 3, per_step=True, relative=True)


def test_any_user_module_is_an_encoder_and_summary_shows_steps() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 10))
    model = CNNLSTM(encoder, 10, 2, hidden_size=4)
    table = timedist.summary(model, (2, 5, 3, 8, 8))
    shapes = {row.name: row.output_shape for row in table.rows}
    assert shapes["encoder.module.1"] == (2, 5, 10) and shapes["rnn"] == (2, 4)


def test_forecaster_starts_from_the_encoder_states() -> None:
    torch.manual_seed(2)
    model = ConvLSTMForecaster(1, hidden=4, horizon=3).eval()
    x = torch.rand(2, 5, 1, 12, 12)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (2, 3, 1, 12, 12) and y.min().item() >= 0 and y.max().item() <= 1
    with torch.no_grad():
        _, (h, c) = model.encoder(x)
        unrolled = model.forecaster(h.unsqueeze(1).expand(-1, 3, -1, -1, -1), (h, c))
        expected = torch.sigmoid(model.to_frame(unrolled))
    torch.testing.assert_close(y, expected)
    check_layer(model.train(), x, compile=False)
