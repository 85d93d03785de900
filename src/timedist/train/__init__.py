"""Training on PyTorch Lightning (the ``train`` extra): ``fit``, ``evaluate``, ``predict``.

Names are imported on first use (PEP 562), so reading a config, choosing defaults or loading
a trained model (``load_run``) does not import Lightning; ``fit``, ``evaluate``, ``predict``
and ``SequenceTask`` do.

>>> from timedist.train import RunConfig
>>> RunConfig(data="japanese-vowels").data
'japanese-vowels'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import DATASET_DEFAULTS, MODELS, ConfigError, RunConfig, resolve_config
    from .defaults import choose_defaults
    from .module import NonFiniteLossError, SequenceTask
    from .prepare import ModelSpec, Prepared, build_model, prepare, prepare_data
    from .record import load_run
    from .run import RunResult, TrainingError, evaluate, fit, predict

_HOMES = {
    "DATASET_DEFAULTS": "config", "MODELS": "config", "ConfigError": "config",
    "RunConfig": "config", "resolve_config": "config", "choose_defaults": "defaults",
    "NonFiniteLossError": "module", "SequenceTask": "module", "ModelSpec": "prepare",
    "Prepared": "prepare", "build_model": "prepare", "prepare": "prepare",
    "prepare_data": "prepare", "load_run": "record", "RunResult": "run",
    "TrainingError": "run", "evaluate": "run", "fit": "run", "predict": "run",
}

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


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
