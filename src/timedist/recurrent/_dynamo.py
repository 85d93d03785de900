"""Let Dynamo (torch.compile) trace timedist's recurrent layers, without importing it.

Dynamo refuses every subclass of torch's RNN/LSTM/GRU unless ``torch._dynamo.config.allow_rnn``
is set. A traced timedist layer runs the masked scan, never torch's RNN kernels, so the flag is
set for the user — but importing Dynamo costs a second, which ``timedist --help`` should not
pay: the flag is set now if Dynamo is loaded, else the moment its config module loads.
(A plain ``torch.nn.LSTM`` is then traced with torch's own experimental support instead of
falling back to eager.)
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["allow_rnn"]

_CONFIG = "torch._dynamo.config"


def allow_rnn() -> None:
    """Set ``torch._dynamo.config.allow_rnn = True`` now or when Dynamo loads."""
    config = sys.modules.get(_CONFIG)
    if config is not None:
        config.allow_rnn = True  # type: ignore[attr-defined]
    elif not any(isinstance(f, _SetWhenLoaded) for f in sys.meta_path):
        sys.meta_path.insert(0, _SetWhenLoaded())


class _SetWhenLoaded(importlib.abc.MetaPathFinder):
    """A one-shot import hook: finds Dynamo's config as usual and sets the flag after it runs."""

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name != _CONFIG:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            module.allow_rnn = True  # type: ignore[attr-defined]

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
