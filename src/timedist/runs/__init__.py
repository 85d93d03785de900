"""Runs without Lightning: a model with its task kind (``task``), the device a run uses
(``device``), seeding (``seed``), what a run says (``console``) and the error that stops it
(``errors``), ``metrics.csv`` (``metrics``), progress lines, and rocket on several processes
(``distributed``); more of the run machinery moves here as the layout is reorganized
(issue 22)."""

from .progress import Progress

__all__ = ["Progress"]
