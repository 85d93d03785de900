"""Runs without Lightning: a run directory from configuration to predictions.

``config`` (settings, their flags and the files that hold them), ``defaults`` (settings chosen
from the data), ``prepare`` (data to tensors, the model built), ``rundir``/``marker``/
``record`` (the run directory, its proof of ownership and what it records), ``closed_form``
(rocket's fit), ``fitting`` (the one fit flow), ``evaluation`` and ``baselines`` (outputs,
metrics and the cheap baseline), ``measure`` (a model tested: metrics, plots, reports),
``clip_source`` (own videos as a run's data), ``run``/``evaluate``/``predict`` (the commands);
with the small parts they share: ``task`` (a model with its task kind), ``device``, ``seed``,
``console``, ``errors``, ``metrics`` (metrics.csv), ``progress`` and ``distributed`` (rocket
on several processes). Networks are trained by :mod:`timedist.train` (Lightning), imported
only then.
"""

from .progress import Progress

__all__ = ["Progress"]
