"""Tools that make shapes visible: a time-aware ``summary`` (``explain`` follows)."""

from __future__ import annotations

from .summary import LayerRow, ModelSummary, summary

__all__ = ["LayerRow", "ModelSummary", "summary"]
