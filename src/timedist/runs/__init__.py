"""Runs without Lightning: what a closed-form fit needs to show its progress (more of the run
machinery moves here with the layout work, see docs/architecture.md)."""

from .progress import Progress

__all__ = ["Progress"]
