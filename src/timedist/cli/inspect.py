"""``timedist tour | summary | explain | datasets``: the inspection commands (each command's
arguments and what it runs, for the table in :mod:`timedist.cli.main`)."""

from __future__ import annotations

import argparse
from typing import Any

from .args import integer, non_negative, shapes

__all__ = ["add_explain", "add_summary", "add_tour", "run_datasets", "run_explain",
           "run_summary", "run_tour"]


def add_tour(tour: argparse.ArgumentParser) -> None:
    tour.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")


def run_tour(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .._showcase import run_showcase

    return 0 if run_showcase(seed=args.seed) else 1


def add_summary(table: argparse.ArgumentParser) -> None:
    from ..inspect.examples import EXAMPLES
    from ..models.registry import MODELS

    table.add_argument("model", help="an example model (" + ", ".join(EXAMPLES) + "), a model "
                       "of timedist fit (" + ", ".join(MODELS) + "), MODULE:ATTRIBUTE naming "
                       "an nn.Module, or a class or function that builds one without arguments, "
                       "or a RUN_DIR of timedist fit")
    table.add_argument("--input-size", type=shapes,
                       help="input shape, e.g. 4,12,8; several inputs separated by ';' "
                       "(default for example models and those of timedist fit: their usual "
                       "input)")
    table.add_argument("--depth", type=non_negative, default=3,
                       help="submodule levels to list (default: 3)")


def run_summary(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from pathlib import Path

    from ..inspect import summary
    from ..inspect.examples import EXAMPLES
    from ..models.registry import EXAMPLE_INPUTS, MODELS

    sizes = args.input_size
    if (Path(args.model) / "config.yaml").is_file():  # a run directory of timedist fit:
        from ..runs.record import load_run  # what fails there is a failure at run time (exit 1)

        model, run_input = load_run(args.model)
        sizes = sizes or [run_input]
    elif args.model in EXAMPLES:
        model = EXAMPLES[args.model].build()
        sizes = sizes or [EXAMPLES[args.model].input_size]
    elif args.model in MODELS:  # as timedist fit builds it for such an input
        from ..models.registry import for_input
        from ..runs.config import RunConfig

        sizes = sizes or [EXAMPLE_INPUTS[max(MODELS[args.model].steps)]]
        if len(sizes) != 1:
            parser.error(f"summary: expected one --input-size for {args.model}; got {len(sizes)}")
        try:
            model = for_input(args.model, sizes[0], RunConfig())
        except ValueError as error:
            parser.error(f"summary: --input-size {','.join(map(str, sizes[0]))}: {error}")
    else:
        try:
            model = _load_model(args.model)
        except (ImportError, AttributeError, ValueError) as error:
            parser.error(f"summary: {error}")
        if sizes is None:
            parser.error("summary: expected --input-size for a model given by path")
    print(summary(model, sizes[0] if len(sizes) == 1 else sizes, depth=args.depth))
    return 0


def run_datasets(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..data import DATASETS, load_dataset

    rows = [("name", "task", "sample", "train", "test", "source")]
    for name, info in DATASETS.items():
        train, test = load_dataset(name)
        rows.append((name, info.task, info.sample, str(len(train)), str(len(test)), info.source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def add_explain(explain: argparse.ArgumentParser) -> None:
    """``timedist explain rnn|lstm|gru|conv2d|time-distributed [options] [--png F] [--json]``."""
    kinds = explain.add_subparsers(dest="what", metavar="WHAT", required=True)
    for kind in ("rnn", "lstm", "gru"):
        sub = kinds.add_parser(kind, help=f"torch.nn.{kind.upper()}: h0, weights, output, h_n")
        sub.add_argument("--input-size", type=_explained, default=4)
        sub.add_argument("--hidden-size", type=_explained, default=2)
        sub.add_argument("--num-layers", type=_layers, default=1)
        sub.add_argument("--bidirectional", action="store_true")
        sub.add_argument("--seq-len", type=_explained, default=3)
        sub.add_argument("--batch", type=_explained, default=2)
        sub.add_argument("--batch-first", action="store_true")
        if kind == "lstm":
            sub.add_argument("--proj-size", type=non_negative, default=0,
                             help="0 (none), or less than --hidden-size")
    conv = kinds.add_parser("conv2d", help="multi-channel convolution and the 1x1 matmul")
    for option, default in (("in-channels", 2), ("out-channels", 3), ("kernel-size", 2),
                            ("height", 3), ("width", 3)):
        conv.add_argument(f"--{option}", type=_explained, default=default)
    td = kinds.add_parser("time-distributed", help="fold, module, unfold; parameters vs T")
    td.add_argument("--module", choices=("conv2d", "linear"), default="conv2d")
    for option, (default, module) in _TD_OPTIONS.items():
        td.add_argument(f"--{option}", type=_explained, default=None,
                        help=f"default {default}" + (f"; --module {module} only" if module
                                                     else ""))
    for sub in (*(kinds.choices[k] for k in ("rnn", "lstm", "gru")), conv, td):
        sub.add_argument("--png", metavar="FILE", help="also draw the network to this PNG file")
        sub.add_argument("--overwrite", action="store_true",
                         help="replace an existing --png file")
        sub.add_argument("--json", action="store_true", help="print the facts as JSON")


# explain walks through a layer it runs: sizes beyond these explain nothing more, and would
# take minutes or all the memory (--num-layers 1000000)
EXPLAIN_LARGEST, EXPLAIN_LAYERS = 1024, 64
# time-distributed's options: (default, the --module they belong to, None for both)
_TD_OPTIONS = {"batch": (2, None), "steps": (5, None), "features": (8, "linear"),
               "units": (10, "linear"), "channels": (3, "conv2d"), "filters": (16, "conv2d"),
               "kernel-size": (3, "conv2d"), "size": (32, "conv2d")}


def _explained(text: str) -> int:
    return integer(text, 1, EXPLAIN_LARGEST)


def _layers(text: str) -> int:
    return integer(text, 1, EXPLAIN_LAYERS)


def _explain_options(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Usage errors for explain's options that do not fit together (a kernel larger than the
    image, an option of the other --module); time-distributed's defaults filled in."""
    what = f"explain {args.what}"
    if args.what == "time-distributed":
        for option, (default, module) in _TD_OPTIONS.items():
            name = option.replace("-", "_")
            if getattr(args, name) is not None and module not in (None, args.module):
                parser.error(f"{what}: --{option} applies to --module {module}; this is "
                             f"--module {args.module}")
            if getattr(args, name) is None:
                setattr(args, name, default)
    side = (("--height/--width", min(args.height, args.width)) if args.what == "conv2d" else
            ("--size", args.size) if args.what == "time-distributed" and args.module == "conv2d"
            else None)
    if side is not None and args.kernel_size > side[1]:
        parser.error(f"{what}: --kernel-size {args.kernel_size}: expected at most {side[0]} "
                     f"({side[1]})")
    if getattr(args, "proj_size", 0) and args.proj_size >= args.hidden_size:
        parser.error(f"{what}: --proj-size {args.proj_size}: expected less than --hidden-size "
                     f"{args.hidden_size} (or 0)")


def run_explain(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    _explain_options(parser, args)

    from ..inspect import explain

    if args.png:
        from .._atomic import check_output
        from ..runs.rundir import run_file_reason

        if not args.png.lower().endswith(".png"):
            raise ValueError(f"--png {args.png}: expected a file ending in .png")
        largest = {"seq_len": 32, "num_layers": 8}
        for name, most in largest.items():
            if getattr(args, name, 0) > most:
                raise ValueError(f"--png draws at most {most} for --{name.replace('_', '-')} "
                                 f"(a bigger picture is unreadable); got {getattr(args, name)}"
                                 f" (without --png up to {EXPLAIN_LARGEST} is explained)")
        args.png = str(check_output(args.png, overwrite=args.overwrite, flag="--png",
                                    protected=run_file_reason))

    options = {k: v for k, v in vars(args).items()
               if k not in ("command", "what", "png", "json", "debug", "overwrite")}
    explanation = explain(args.what, **options)
    print(explanation.to_json() if args.json else explanation)
    if args.png:
        from ..inspect.diagram import draw

        draw(explanation, args.png, replace=args.overwrite)
        if not args.json:
            print(f"\nwrote {args.png}")
    return 0


LOADING = False  # a model factory is being called (summary MODULE:ATTRIBUTE)


def _load_model(spec: str) -> Any:
    """``package.module:attribute`` -> an nn.Module (a factory is called)."""
    import importlib

    from torch import nn

    from .._checks import shorten_text
    from ..inspect.examples import EXAMPLES
    from ..models.registry import MODELS

    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected an example model ({', '.join(EXAMPLES)}), a model of "
                         f"timedist fit ({', '.join(MODELS)}) or MODULE:ATTRIBUTE, e.g. "
                         f"mypackage.models:build; got {spec!r}")
    obj = getattr(importlib.import_module(module_name), attribute)
    global LOADING
    try:
        LOADING = True  # (a factory that runs timedist's own main would run this again)
        model = obj if isinstance(obj, nn.Module) else obj()
    except (Exception, SystemExit) as error:  # not callable, needs arguments, or anything else
        raise ValueError(f"expected {spec} to be an nn.Module, or a class or function that "
                         f"builds one without arguments; calling it failed: "
                         f"{type(error).__name__}: {shorten_text(str(error), 120)}") from None
    finally:
        LOADING = False
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected {spec} to be or build an nn.Module; got {type(model).__name__}")
    return model
