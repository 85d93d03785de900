"""The ``timedist`` command line: :func:`main` (the entry point), :func:`build_parser`, and
:func:`error_line` (how a failure is said). The commands are in one table,
:data:`timedist.cli.main.COMMANDS`."""

from __future__ import annotations

from .main import build_parser, error_line, main

__all__ = ["build_parser", "error_line", "main"]
