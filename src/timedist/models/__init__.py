"""Ready-made temporal models built from timedist layers (one screen each)."""

from __future__ import annotations

from .cnn_lstm import CNNLSTM, frame_encoder, subsequence_encoder, to_subsequences
from .forecaster import ConvLSTMForecaster
from .sequence import SequenceClassifier, SequenceRegressor

__all__ = [
    "CNNLSTM",
    "ConvLSTMForecaster",
    "SequenceClassifier",
    "SequenceRegressor",
    "frame_encoder",
    "subsequence_encoder",
    "to_subsequences",
]
