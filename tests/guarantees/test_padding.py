"""Every layer and model that takes lengths: whatever the padding holds — NaN included — the
outputs (padded positions: 0 where the output has a time axis) and every parameter's gradient
equal those computed with zero padding (issue 13)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

import timedist
from timedist.models import (
    CNNLSTM,
    FCN,
    InceptionTime,
    ResNet,
    RocketModel,
    SequenceClassifier,
    SequenceRegressor,
    frame_encoder,
)

B, T = 3, 9
LENGTHS = torch.tensor([9, 4, 1])


def rocket() -> nn.Module:
    return RocketModel(2, T, 3, members=1, num_features=168).fit(torch.randn(6, T, 2),
                                                                 torch.arange(6) % 3)


LAYERS: dict[str, tuple[Callable[[], nn.Module], tuple[int, ...]]] = {
    "TimeDistributed(Linear)": (lambda: timedist.TimeDistributed(nn.Linear(2, 4)), (2,)),
    "TimeDistributed(Conv2d)": (lambda: timedist.TimeDistributed(nn.Conv2d(1, 2, 3)),
                                (1, 6, 6)),
    "LSTM": (lambda: timedist.LSTM(2, 4), (2,)),
    "GRU, 2 layers, bidirectional": (lambda: timedist.GRU(2, 4, num_layers=2,
                                                          bidirectional=True), (2,)),
    "RNN, last step": (lambda: timedist.RNN(2, 4, return_sequences=False), (2,)),
    "Bidirectional(LSTM)": (lambda: timedist.Bidirectional(timedist.LSTM(2, 3)), (2,)),
    "ConvLSTM2d": (lambda: timedist.ConvLSTM2d(1, 2, 3), (1, 5, 5)),
    "Bidirectional(ConvLSTM1d)": (lambda: timedist.Bidirectional(timedist.ConvLSTM1d(1, 2, 3)),
                                  (1, 7)),
    "SequenceClassifier": (lambda: SequenceClassifier(2, 3, hidden_size=4), (2,)),
    "SequenceRegressor, relative": (lambda: SequenceRegressor(2, 1, hidden_size=4,
                                                              relative=True), (2,)),
    "CNNLSTM": (lambda: CNNLSTM(frame_encoder(1, 8, 4), 8, 3, hidden_size=4), (1, 16, 16)),
    "RocketModel": (rocket, (2,)),
    "FCN": (lambda: FCN(2, 3, width=4).eval(), (2,)),
    "ResNet": (lambda: ResNet(2, 3, width=4).eval(), (2,)),
    "InceptionTime": (lambda: InceptionTime(2, 3, filters=4, depth=3).eval(), (2,)),
}


def first(output: object) -> torch.Tensor:
    while isinstance(output, (tuple, list)):
        output = output[0]
    assert isinstance(output, torch.Tensor)
    return output


@pytest.mark.parametrize("fill", [float("nan"), float("inf"), 1e4])
@pytest.mark.parametrize("name", list(LAYERS))
def test_padding_never_leaks(name: str, fill: float) -> None:
    torch.manual_seed(0)
    make, step = LAYERS[name]
    layer = make()
    if not any(p.requires_grad for p in layer.parameters()):
        layer.requires_grad_(True)
    x = torch.randn(B, T, *step)
    padded = torch.arange(T) >= LENGTHS[:, None]
    clean, dirty = x.clone(), x.clone()
    clean[padded], dirty[padded] = 0.0, fill
    results = []
    for data in (clean, dirty):
        out = first(layer(data, lengths=LENGTHS))
        grads = torch.autograd.grad(out.float().sum(), [p for p in layer.parameters()
                                                        if p.requires_grad], allow_unused=True)
        results.append((out, [g for g in grads if g is not None]))
    (out_clean, grads_clean), (out_dirty, grads_dirty) = results
    torch.testing.assert_close(out_dirty, out_clean)
    assert all(bool(torch.isfinite(g).all()) for g in grads_dirty)
    for g_dirty, g_clean in zip(grads_dirty, grads_clean, strict=True):
        torch.testing.assert_close(g_dirty, g_clean)
    if out_dirty.dim() >= 3 and out_dirty.shape[1] == T:  # outputs with a time axis
        assert bool((out_dirty[padded] == 0).all())
