"""timedist.summary: real and per-step shapes, totals, and no side effects."""

from __future__ import annotations

import copy

import pytest
import torch
from helpers import assert_golden
from torch import nn

import timedist
from timedist.inspect import summary


def cnn_lstm() -> nn.Sequential:
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 8 * 8, 16))
    return nn.Sequential(timedist.TimeDistributed(encoder),
                         timedist.LSTM(16, 32, return_sequences=False), nn.Linear(32, 5))


def test_time_distributed_linear_keras_example() -> None:
    table = summary(nn.Sequential(timedist.TimeDistributed(nn.Linear(8, 10))), (4, 12, 8))
    assert [(r.name, r.output_shape, r.params) for r in table.rows] == [
        ("0", (4, 12, 10), 90), ("0.module", (4, 12, 10), 90)]
    assert table.total_params == 90 and table.output_shape == (4, 12, 10)
    assert_golden("summary_td_linear.txt", str(table))


def test_time_distributed_conv2d_keras_example() -> None:
    layer = timedist.TimeDistributed(nn.Conv2d(3, 32, 3, padding=1))
    table = summary(layer, (2, 12, 3, 32, 32))
    assert table.rows[0].output_shape == (2, 12, 32, 32, 32)  # never the folded (24, 32, 32, 32)
    assert table.total_params == 896
    assert_golden("summary_td_conv2d.txt", str(table))


def test_cnn_lstm_rows_and_totals() -> None:
    model = cnn_lstm()
    table = summary(model, (4, 6, 3, 16, 16))
    shapes = {r.name: r.output_shape for r in table.rows}
    assert shapes["0.module.0"] == (4, 6, 8, 16, 16) and shapes["0.module.4"] == (4, 6, 512)
    assert shapes["1"] == (4, 32) and shapes["2"] == (4, 5)
    assert table.total_params == sum(p.numel() for p in model.parameters())
    assert [r.name for r in table.rows][:3] == ["0", "0.module", "0.module.0"]
    assert_golden("summary_cnn_lstm.txt", str(table))


@pytest.mark.parametrize("options", [{"mode": "loop"}, {"chunk_size": 5}])
def test_loop_and_chunked_time_distributed_still_show_b_t(options: dict[str, object]) -> None:
    layer = timedist.TimeDistributed(nn.Linear(3, 2), **options)  # type: ignore[arg-type]
    assert summary(nn.Sequential(layer), (4, 6, 3)).rows[1].output_shape == (4, 6, 2)


def test_depth_single_layer_states_and_frozen_parameters() -> None:
    model = cnn_lstm()
    model[0].requires_grad_(False)
    table = summary(model, (2, 3, 3, 16, 16), depth=1)
    assert [r.name for r in table.rows] == ["0", "1", "2"]
    frozen = sum(p.numel() for p in model[0].parameters())
    assert table.non_trainable_params == frozen
    assert table.trainable_params == 6400 + 165  # LSTM(16, 32) + Linear(32, 5)
    single = summary(timedist.LSTM(8, 16, bidirectional=True, return_state=True), (4, 10, 8))
    assert single.rows[0].output_shape == ((4, 10, 32), (2, 4, 16), (2, 4, 16))
    assert "[(4, 10, 32), (2, 4, 16), (2, 4, 16)]" in str(single)


def test_mode_hooks_and_statistics_are_restored_even_on_error() -> None:
    model = cnn_lstm().train()
    before = copy.deepcopy(model.state_dict())
    summary(model, input_data=torch.randn(2, 3, 3, 16, 16))
    assert all(m.training for m in model.modules())
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, before[key])
    with pytest.raises(ValueError, match=r"with C=3; got shape"):
        summary(model, (2, 3, 1, 16, 16))
    assert all(m.training for m in model.modules())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())
    with pytest.raises(ValueError, match="expected input_size or input_data"):
        summary(model)
