"""Built-in example models, by name, with the input shape each is meant for.

``timedist summary NAME`` and the docs use them; the models ``timedist fit`` trains are named
in :data:`timedist.models.registry.MODELS` (``timedist summary`` shows those too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from ..recurrent import LSTM
from ..time_distributed import TimeDistributed

__all__ = ["EXAMPLES", "Example"]


@dataclass(frozen=True)
class Example:
    """``build()`` makes the model; ``input_size`` is its usual input; ``about`` one line."""

    build: Callable[[], nn.Module]
    input_size: tuple[int, ...]
    about: str


def _frame_encoder() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


EXAMPLES: dict[str, Example] = {
    "td-dense": Example(lambda: nn.Sequential(TimeDistributed(nn.Linear(8, 10))), (4, 12, 8),
                        "Keras' TimeDistributed(Dense(10)) on (B, 12, 8): 90 parameters"),
    "td-conv2d": Example(lambda: nn.Sequential(TimeDistributed(nn.Conv2d(3, 32, 3, padding=1))),
                         (4, 12, 3, 32, 32),
                         "TimeDistributed(Conv2D(32, 3, padding='same')) on 12 frames: 896"),
    "td-cnn-lstm": Example(lambda: nn.Sequential(TimeDistributed(_frame_encoder()),
                                              LSTM(32, 64, return_sequences=False),
                                              nn.Linear(64, 5)),
                        (4, 16, 3, 64, 64), "a frame CNN, an LSTM over the frames, 5 classes"),
    "bilstm-classifier": Example(
        lambda: nn.Sequential(LSTM(12, 64, bidirectional=True, return_sequences=False),
                              nn.Linear(128, 9)),
        (8, 29, 12), "a bidirectional LSTM over 12 features, 9 classes (JapaneseVowels-sized)"),
}
