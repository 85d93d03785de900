"""timedist: Keras' temporal layers for PyTorch, done right and fast.

>>> import torch, timedist
>>> timedist.TimeDistributed(torch.nn.Linear(8, 10))(torch.randn(4, 12, 8)).shape
torch.Size([4, 12, 10])
"""

from __future__ import annotations

import os as _os
import sys as _sys

try:  # torch's libraries do not load from a folder that was removed: say so, in one line
    _os.getcwd()
except FileNotFoundError:
    _sys.stderr.write("timedist: error: the current folder no longer exists (removed or moved "
                      "away); cd into an existing folder and run again\n")
    raise SystemExit(1) from None

from . import _moved, data, models, reference
from ._version import __version__
from .deploy import export  # the function; its module is timedist.deploy.export
from .inspect import explain, summary
from .masking import last_valid, lengths_to_mask, mask_to_lengths, reverse_valid
from .recurrent import GRU, LSTM, RNN, Bidirectional, ConvLSTM1d, ConvLSTM2d, ConvLSTM3d
from .time_distributed import TimeDistributed

_moved.install()  # earlier versions' module paths (timedist.train.config, ...) still import

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "Bidirectional",
    "ConvLSTM1d",
    "ConvLSTM2d",
    "ConvLSTM3d",
    "TimeDistributed",
    "__version__",
    "data",
    "explain",
    "export",
    "last_valid",
    "lengths_to_mask",
    "mask_to_lengths",
    "models",
    "reference",
    "reverse_valid",
    "summary",
]
