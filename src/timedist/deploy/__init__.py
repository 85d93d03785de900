"""Deployment: a model or a finished run to ONNX or ``torch.export`` (``.pt2``), checked
against eager, and a run's deployed form.

``export`` (a model), ``export_step`` (one time step of a recurrent model, for streaming),
``export_run`` (a finished run: its input scaling and outputs inside the graph) live in
:mod:`timedist.deploy.export`; :mod:`timedist.deploy.deployed` builds what a run exports and
checks a run's ONNX file against it. ONNX needs the ``export`` extra; ``.pt2`` only torch.

>>> import torch, timedist
>>> timedist.deploy.export is timedist.export
True
"""

from __future__ import annotations

from .export import ExportError, ExportReport, export, export_run, export_step

__all__ = ["ExportError", "ExportReport", "export", "export_run", "export_step"]
