"""The error that stops a run (the command line prints it as one line)."""

from __future__ import annotations

__all__ = ["TrainingError"]


class TrainingError(RuntimeError):
    """A run that could not go on (a diverged loss, a missing checkpoint)."""
