"""Training networks on PyTorch Lightning (the ``train`` extra), and the run API's names:
``fit``, ``evaluate``, ``predict``, ``RunConfig``, ``load_run`` (their homes are in
:mod:`timedist.runs`, which needs no Lightning).

Names are imported on first use (PEP 562): reading a config, choosing defaults, loading a
trained model (``load_run``) or a rocket run import no Lightning; ``SequenceTask`` and training
a network do.

>>> from timedist.train import RunConfig
>>> RunConfig(data="japanese-vowels").data
'japanese-vowels'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..models.registry import MODELS, ModelSpec
    from ..runs.config import DATASET_DEFAULTS, ConfigError, RunConfig, resolve_config
    from ..runs.defaults import choose_defaults
    from ..runs.errors import TrainingError
    from ..runs.evaluate import evaluate
    from ..runs.measure import RunResult
    from ..runs.predict import predict
    from ..runs.prepare import Prepared, build_model, prepare, prepare_data
    from ..runs.record import load_run
    from ..runs.run import fit
    from .module import NonFiniteLossError, SequenceTask

# Each name's module (absolute): the run machinery without Lightning lives in timedist.runs.
_HOMES = {
    "DATASET_DEFAULTS": "..runs.config", "MODELS": "..models.registry",
    "ConfigError": "..runs.config", "RunConfig": "..runs.config",
    "resolve_config": "..runs.config", "choose_defaults": "..runs.defaults",
    "NonFiniteLossError": ".module", "SequenceTask": ".module", "ModelSpec": "..models.registry",
    "Prepared": "..runs.prepare", "build_model": "..runs.prepare", "prepare": "..runs.prepare",
    "prepare_data": "..runs.prepare", "load_run": "..runs.record",
    "RunResult": "..runs.measure", "TrainingError": "..runs.errors",
    "evaluate": "..runs.evaluate", "fit": "..runs.run", "predict": "..runs.predict",
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
    return getattr(importlib.import_module(_HOMES[name], __name__), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])
