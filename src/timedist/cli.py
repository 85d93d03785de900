"""The ``timedist`` command (also ``python -m timedist``).

Subcommands so far: ``demo`` (the main job: until training lands, a verified showcase of
TimeDistributed and the Keras-style LSTM). Later issues add ``fit``, ``evaluate``, ``predict``,
``datasets``, ``summary`` and ``explain``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from . import __version__

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``timedist``."""
    parser = argparse.ArgumentParser(
        prog="timedist", description="Keras' temporal layers for PyTorch: run, inspect, train."
    )
    parser.add_argument("--version", action="version", version=f"timedist {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo", help="the main job: TimeDistributed and LSTM examples, each verified"
    )
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._showcase import run_showcase

        return 0 if run_showcase(seed=args.seed) else 1
    parser.print_help()
    return 0
