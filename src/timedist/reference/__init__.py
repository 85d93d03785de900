"""Readable loop implementations of convolution and recurrent math: the test oracle.

Everything here uses plain torch tensor arithmetic — never timedist's fast layers — and
reproduces torch numerically: ``conv2d`` equals ``torch.nn.functional.conv2d``, and
``run_recurrent(module, x)`` returns exactly what a torch or timedist RNN/LSTM/GRU returns.
"""

from __future__ import annotations

from .conv import conv2d, corr2d, corr2d_multi_in, corr2d_multi_in_out, corr2d_multi_in_out_1x1
from .conv_lstm import conv_lstm_cell, run_conv_lstm
from .rnn import gru_cell, lstm_cell, rnn_cell, run_recurrent

__all__ = [
    "conv2d",
    "conv_lstm_cell",
    "corr2d",
    "corr2d_multi_in",
    "corr2d_multi_in_out",
    "corr2d_multi_in_out_1x1",
    "gru_cell",
    "lstm_cell",
    "rnn_cell",
    "run_conv_lstm",
    "run_recurrent",
]
