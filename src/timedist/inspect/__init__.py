"""Tools that make shapes visible: a time-aware ``summary`` and verified ``explain``
walk-throughs (text, JSON, and a PNG diagram)."""

from __future__ import annotations

from .explain import Explanation, explain
from .summary import LayerRow, ModelSummary, summary

__all__ = ["Explanation", "LayerRow", "ModelSummary", "explain", "summary"]
