"""Ready-made temporal models built from timedist layers (one screen each)."""

from __future__ import annotations

from .cnn_lstm import CNNLSTM, frame_blocks, frame_encoder, subsequence_encoder, to_subsequences
from .conv_nets import FCN, InceptionTime, ResNet
from .forecaster import ConvLSTMForecaster
from .random_conv import HydraFeatures, MultiRocketFeatures
from .rocket import RocketModel
from .sequence import SequenceClassifier, SequenceRegressor

__all__ = [
    "CNNLSTM",
    "FCN",
    "ConvLSTMForecaster",
    "HydraFeatures",
    "InceptionTime",
    "MultiRocketFeatures",
    "ResNet",
    "RocketModel",
    "SequenceClassifier",
    "SequenceRegressor",
    "frame_blocks",
    "frame_encoder",
    "subsequence_encoder",
    "to_subsequences",
]
