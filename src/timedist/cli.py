"""The ``timedist`` command (also ``python -m timedist``).

Subcommands so far: ``demo`` (the main job: until training lands, a verified showcase of
TimeDistributed and the Keras-style LSTM) and ``summary``. Later issues add ``fit``,
``evaluate``, ``predict``, ``datasets`` and ``explain``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

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
    table = commands.add_parser(
        "summary", help="a time-aware table of a model's layers, output shapes and parameters"
    )
    table.add_argument("model", help="MODULE:ATTRIBUTE naming an nn.Module, or a class or "
                       "function that builds one without arguments")
    table.add_argument("--input-size", required=True, type=_shapes,
                       help="input shape, e.g. 4,12,8; several inputs separated by ';'")
    table.add_argument("--depth", type=int, default=3, help="submodule levels to list (default: 3)")
    return parser


def _shapes(text: str) -> list[tuple[int, ...]]:
    try:
        return [tuple(int(d) for d in part.split(",")) for part in text.split(";")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected shapes like 4,12,8 or 4,12,8;4,12; got {text!r}"
        ) from None


def _load_model(spec: str) -> Any:
    """``package.module:attribute`` -> an nn.Module (called without arguments if a factory)."""
    import importlib

    from torch import nn

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected MODULE:ATTRIBUTE, e.g. mypackage.models:build; got {spec!r} "
                         "(built-in model names come with timedist.models)")
    obj = getattr(importlib.import_module(module_name), attribute)
    model = obj if isinstance(obj, nn.Module) else obj()
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected {spec} to be or build an nn.Module; got {type(model).__name__}")
    return model


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._showcase import run_showcase

        return 0 if run_showcase(seed=args.seed) else 1
    if args.command == "summary":
        from .inspect import summary

        try:
            model = _load_model(args.model)
        except (ImportError, AttributeError, ValueError) as error:
            parser.error(f"summary: {error}")
        sizes = args.input_size[0] if len(args.input_size) == 1 else args.input_size
        print(summary(model, sizes, depth=args.depth))
        return 0
    parser.print_help()
    return 0
