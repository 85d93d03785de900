"""Training on PyTorch Lightning (the ``train`` extra): ``fit``, ``evaluate``, ``predict``.

>>> from timedist.train import RunConfig
>>> RunConfig(data="japanese-vowels").data
'japanese-vowels'
"""

from __future__ import annotations

from .config import DATASET_DEFAULTS, MODELS, ConfigError, RunConfig, resolve_config
from .defaults import choose_defaults
from .module import NonFiniteLossError, SequenceTask
from .prepare import ModelSpec, Prepared, build_model, prepare, prepare_data
from .run import RunResult, TrainingError, evaluate, fit, load_run, predict

__all__ = [
    "DATASET_DEFAULTS",
    "MODELS",
    "ConfigError",
    "ModelSpec",
    "NonFiniteLossError",
    "Prepared",
    "RunConfig",
    "RunResult",
    "SequenceTask",
    "TrainingError",
    "build_model",
    "choose_defaults",
    "evaluate",
    "fit",
    "load_run",
    "predict",
    "prepare",
    "prepare_data",
    "resolve_config",
]
