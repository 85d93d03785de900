"""The models a run can name: one table, read by the configuration (``--model`` and which
settings apply), the defaults, the command line's help, the estimators and ``summary``.

An entry says what a model is (:class:`ModelEntry`): its name and one line about it, the task
kinds it serves, the steps it reads (signals (C,) or images (C, H, W)), how it is fitted
(closed form: one pass, no epochs; or gradient steps: Lightning), the groups of settings it
takes (``rocket``, ``recurrent``, ``stacked``), and the function that builds it for a
:class:`ModelSpec` from a run's settings (``timedist summary NAME`` shows one built by
:func:`for_input`). Adding a model is its module plus one entry here.

>>> from timedist.models.registry import MODELS, closed_form
>>> closed_form("rocket"), closed_form("inception"), sorted(MODELS["sequence"].takes)
(True, False, ['recurrent', 'stacked'])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from torch import nn

from ..data.task import Task
from .cnn_lstm import CNNLSTM, frame_blocks, frame_encoder, subsequence_encoder
from .conv_nets import FCN, InceptionTime, ResNet
from .forecaster import ConvLSTMForecaster
from .rocket import RocketModel
from .sequence import SequenceClassifier, SequenceRegressor

__all__ = ["EXAMPLE_INPUTS", "MODELS", "Fitting", "ModelEntry", "ModelError", "ModelSpec",
           "Settings", "build", "closed_form", "for_input", "legacy_model", "taking"]


class ModelError(ValueError):
    """A model that cannot serve this data (its task or its steps), or a setting it cannot
    use on it; the message says what fits."""


class Fitting(str, Enum):
    """How a model is fitted: in closed form (one pass over the data, no epochs, no
    Lightning) or by gradient steps (a network trained by Lightning)."""

    CLOSED_FORM = "closed form"
    GRADIENT = "gradient"


@dataclass(frozen=True)
class ModelSpec:
    """What a model must fit: the task, one input step (C,) or (C, H, W), the outputs (classes
    or regression values) and, for frames, the forecast horizon. Stored in a run directory."""

    task: Task
    step_shape: tuple[int, ...]
    num_outputs: int
    horizon: int = 0
    length: int = 0  # the longest training sequence (sets rocket's dilations)

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", Task(self.task))  # text of earlier runs -> the type
        object.__setattr__(self, "step_shape", tuple(self.step_shape))


class Settings(Protocol):
    """The settings a builder reads (a :class:`~timedist.runs.config.RunConfig`)."""

    features: str
    num_features: int
    members: int | None
    hidden_size: int
    num_layers: int
    bidirectional: bool
    cell: str
    dropout: float
    subsequences: int
    relative: bool
    seed: int


Builder = Callable[[ModelSpec, Settings], nn.Module]


@dataclass(frozen=True)
class ModelEntry:
    """One model of :data:`MODELS`. ``steps``: the ranks of one input step it reads (1:
    signals (C,), 3: images (C, H, W)); ``takes``: the groups of settings it uses (a setting
    of another group given for it is an error, never ignored)."""

    name: str
    about: str
    build: Builder
    tasks: frozenset[Task]
    steps: frozenset[int]
    fitting: Fitting = Fitting.GRADIENT
    takes: frozenset[str] = frozenset()


def _rnn(settings: Settings) -> dict[str, object]:
    return dict(hidden_size=settings.hidden_size, num_layers=settings.num_layers,
                bidirectional=settings.bidirectional, cell=settings.cell,
                dropout=settings.dropout)


def _rocket(spec: ModelSpec, s: Settings) -> nn.Module:
    return RocketModel(spec.step_shape[0], max(spec.length, 1), spec.num_outputs,
                       task=spec.task, features=s.features, num_features=s.num_features,
                       members=s.members or 1, seed=s.seed)


def _sequence(spec: ModelSpec, s: Settings) -> nn.Module:
    if spec.task is Task.CLASSIFICATION:
        return SequenceClassifier(spec.step_shape[0], spec.num_outputs,
                                  **_rnn(s))  # type: ignore[arg-type]
    return SequenceRegressor(spec.step_shape[0], spec.num_outputs, relative=s.relative,
                             **_rnn(s))  # type: ignore[arg-type]


def _cnn_lstm(spec: ModelSpec, s: Settings) -> nn.Module:
    step = spec.step_shape
    if len(step) == 3:
        encoder = frame_encoder(step[0], 128, blocks=frame_blocks(*step[1:]))
        return CNNLSTM(encoder, 128, spec.num_outputs, **_rnn(s))  # type: ignore[arg-type]
    n = s.subsequences
    if n and spec.length % n:
        fits = [d for d in range(2, min(spec.length, 64) + 1) if spec.length % d == 0]
        default = " (the default)" if n == _default(s, "subsequences") else ""
        raise ModelError(f"--subsequences {n}{default}: expected a divisor of the series length "
                         f"{spec.length} (each window is split into n equal steps); got {n}"
                         + (f": try {', '.join(map(str, fits[:8]))}" if fits else ""))
    return CNNLSTM(subsequence_encoder(step[0]), 64, spec.num_outputs, subsequences=n,
                   **_rnn(s))  # type: ignore[arg-type]


def _default(settings: Settings, name: str) -> object:
    """The default of setting ``name`` when ``settings`` is a dataclass (a RunConfig), else
    None."""
    if not dataclasses.is_dataclass(settings):
        return None
    return next((f.default for f in dataclasses.fields(settings) if f.name == name), None)


def _conv_net(cls: type[FCN | ResNet | InceptionTime]) -> Builder:
    return lambda spec, s: cls(spec.step_shape[0], spec.num_outputs)


_VALUES = frozenset({Task.CLASSIFICATION, Task.REGRESSION})
_SIGNALS = frozenset({1})

MODELS: dict[str, ModelEntry] = {entry.name: entry for entry in (
    ModelEntry("rocket", "random convolution features (MiniRocket, Hydra) + ridge heads, an "
               "ensemble fitted in closed form (signals: the default for own data)",
               _rocket, _VALUES, _SIGNALS, Fitting.CLOSED_FORM, frozenset({"rocket"})),
    ModelEntry("inception", "InceptionTime network (multi-scale convolutions, residual, global "
               "pooling)", _conv_net(InceptionTime), _VALUES, _SIGNALS),
    ModelEntry("resnet", "ResNet for time series (three residual conv blocks, global pooling)",
               _conv_net(ResNet), _VALUES, _SIGNALS),
    ModelEntry("fcn", "fully convolutional network (conv 8-5-3, global pooling)",
               _conv_net(FCN), _VALUES, _SIGNALS),
    ModelEntry("cnn-lstm", "TimeDistributed CNN encoder + LSTM/GRU (frames, or sub-sequences "
               "of a signal)", _cnn_lstm, _VALUES, frozenset({1, 3}),
               takes=frozenset({"recurrent", "stacked"})),
    ModelEntry("sequence", "stacked (bi)LSTM/GRU: SequenceClassifier or SequenceRegressor, by "
               "task", _sequence, _VALUES, _SIGNALS, takes=frozenset({"recurrent", "stacked"})),
    ModelEntry("conv-lstm-forecaster", "ConvLSTM encoder-forecaster: frames in, next frames out",
               lambda spec, s: ConvLSTMForecaster(spec.step_shape[0], hidden=s.hidden_size,
                                                  horizon=spec.horizon),
               frozenset({Task.FRAMES}), frozenset({3}), takes=frozenset({"recurrent"})),
)}


def closed_form(name: str | None) -> bool:
    """Whether model ``name`` is fitted in closed form (no epochs, no Lightning)."""
    return name in MODELS and MODELS[name].fitting is Fitting.CLOSED_FORM


def taking(group: str) -> list[str]:
    """The models that take the settings of ``group`` (``rocket``, ``recurrent``, ...)."""
    return [name for name, entry in MODELS.items() if group in entry.takes]


# A batch of each step rank, for ``timedist summary NAME`` (signals; 16-frame 64x64 clips).
EXAMPLE_INPUTS = {1: (4, 150, 3), 3: (4, 16, 3, 64, 64)}


def for_input(name: str, shape: tuple[int, ...], settings: Settings) -> nn.Module:
    """Model ``name`` as a run builds it for batches of ``shape`` (B, T, *step): for the first
    task it serves, with two classes (or one value; frames: one step ahead). Raises
    :class:`ModelError` when it cannot read such steps.

    >>> from timedist.runs.config import RunConfig
    >>> type(for_input("inception", (8, 100, 2), RunConfig())).__name__
    'InceptionTime'
    """
    if name not in MODELS:
        raise ModelError(f"expected a model, one of {', '.join(MODELS)}; got {name!r}")
    if len(shape) < 3:
        raise ModelError(f"expected an input (B, T, *step): (B, T, C) or (B, T, C, H, W); got "
                         f"{shape}")
    task = next(t for t in Task if t in MODELS[name].tasks)
    outputs = 2 if task is Task.CLASSIFICATION else 1 if task is Task.REGRESSION else shape[2]
    spec = ModelSpec(task, shape[2:], outputs, horizon=1 if task is Task.FRAMES else 0,
                     length=shape[1])
    return build(name, spec, settings)


def legacy_model(spec: ModelSpec) -> str:
    """The model a run stored without a model name (timedist 0.1's defaults) was built with."""
    if spec.task is Task.FRAMES:
        return "conv-lstm-forecaster"
    return "cnn-lstm" if len(spec.step_shape) == 3 else "sequence"


def build(name: str | None, spec: ModelSpec, settings: Settings) -> nn.Module:
    """Model ``name`` (None: timedist 0.1's default for ``spec``) sized for ``spec``, from
    ``settings``. Raises :class:`ModelError` when it cannot serve ``spec``."""
    name = name or legacy_model(spec)
    if name not in MODELS:
        raise ModelError(f"expected a model, one of {', '.join(MODELS)}; got {name!r}")
    entry, step = MODELS[name], spec.step_shape
    if spec.task not in entry.tasks:
        serving = [n for n, e in MODELS.items() if spec.task in e.tasks]
        raise ModelError(f"model {name!r} does not fit task '{spec.task}': {name} serves "
                         f"{' and '.join(t for t in Task if t in entry.tasks)}; {spec.task} "
                         f"targets need one of {', '.join(serving)}")
    if len(step) not in entry.steps:
        if entry.steps == _SIGNALS:
            raise ModelError(f"model {name!r} expects signals, steps (C,); got steps {step}: "
                             "use cnn-lstm for image sequences")
        wanted = " or ".join("(C,)" if rank == 1 else "(C, H, W)" for rank in sorted(entry.steps))
        raise ModelError(f"model {name!r} expects steps {wanted}; got {step}")
    return entry.build(spec, settings)
