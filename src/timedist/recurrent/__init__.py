"""Keras-style recurrent layers (RNN, LSTM, GRU), Bidirectional, and the kernels they run on.

layers.py holds the layers (subclasses of torch's), kernel.py the one entry that picks torch's
fused kernel or the masked scan (scan.py), bidirectional.py the wrapper.

Importing timedist lets torch.compile trace these layers (see _dynamo.py).
"""

from __future__ import annotations

from ._dynamo import allow_rnn
from .bidirectional import Bidirectional
from .layers import GRU, LSTM, RNN, RecurrentMixin

allow_rnn()

__all__ = ["GRU", "LSTM", "RNN", "Bidirectional", "RecurrentMixin"]
