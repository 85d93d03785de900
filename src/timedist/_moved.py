"""Module paths of earlier versions, kept importable: ``timedist.train.config`` is
``timedist.runs.config`` (issue 22 moved it), so user code and pickled estimators of earlier
versions (which name the classes' modules) keep loading.

:data:`MOVED` is the one table of moves; :func:`install` puts a finder on ``sys.meta_path``
that answers an old name with the new module itself (the same object: ``isinstance`` and
monkeypatching see one module). ``timedist.export`` is not here: it is the function
``timedist.export``; its module is :mod:`timedist.deploy.export`.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = ["MOVED", "install"]

MOVED = {
    "timedist.conv_recurrent": "timedist.recurrent.conv_lstm",
    "timedist._sequence": "timedist.recurrent.base",
    "timedist._merge": "timedist.recurrent.merge",
    "timedist.train_cli": "timedist.cli.runs",
    "timedist.train.deployed": "timedist.deploy.deployed",
    **{f"timedist.train.{name}": f"timedist.runs.{name}" for name in (
        "baselines", "clip_source", "closed_form", "config", "defaults", "evaluation", "marker",
        "prepare", "record", "run", "rundir")},
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old module name and loads it as the module that replaced it."""

    def find_spec(self, name: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if name not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(name, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported under its own name."""


def install() -> None:
    """Make the old names importable (once per interpreter)."""
    if not any(isinstance(finder, _Alias) for finder in sys.meta_path):
        sys.meta_path.append(_Alias())
