"""Runs without Lightning: what a closed-form fit needs to show its progress and to run on
several processes (more of the run machinery moves here as the layout is reorganized)."""

from .progress import Progress

__all__ = ["Progress"]
