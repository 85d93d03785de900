"""Keras-style recurrent layers (RNN, LSTM, GRU), Bidirectional, and the kernels they run on.

base.py holds the Keras flow every layer shares (lengths, masks, states, ``go_backwards``,
``return_sequences``), layers.py the RNN/LSTM/GRU layers (subclasses of torch's), kernel.py the
one entry that picks torch's fused kernel or the masked scan (scan.py), conv_lstm.py
ConvLSTM1d/2d/3d, merge.py how two directions merge, bidirectional.py the wrapper.

Importing timedist lets torch.compile trace these layers (see _dynamo.py).
"""

from __future__ import annotations

from ._dynamo import allow_rnn
from .bidirectional import Bidirectional
from .conv_lstm import ConvLSTM1d, ConvLSTM2d, ConvLSTM3d
from .layers import GRU, LSTM, RNN, RecurrentMixin

allow_rnn()

__all__ = ["GRU", "LSTM", "RNN", "Bidirectional", "ConvLSTM1d", "ConvLSTM2d", "ConvLSTM3d",
           "RecurrentMixin"]
