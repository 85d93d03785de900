"""The ``timedist`` command (also ``python -m timedist``).

Subcommands: ``fit``, ``evaluate``, ``predict`` (training on Lightning: the ``train`` extra),
``datasets``, ``summary``, ``explain`` and ``tour`` (verified TimeDistributed and LSTM examples).
Errors print one line and exit with status 1 (usage errors: 2, argparse's); ``--debug`` or
``TIMEDIST_DEBUG=1`` shows the full traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ._version import __version__

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse with a usage error as one line (where to find the usage: ``--help``), like
    every other error of timedist; its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``timedist``."""
    parser = _Parser(
        prog="timedist", description="Keras' temporal layers for PyTorch: run, inspect, train."
    )
    parser.add_argument("--version", action="version", version=f"timedist {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    from .train_cli import add_training_commands

    add_training_commands(commands)
    tour = commands.add_parser(
        "tour", help="TimeDistributed and LSTM examples, each shape verified"
    )
    tour.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    table = commands.add_parser(
        "summary", help="a time-aware table of a model's layers, output shapes and parameters"
    )
    from .inspect.examples import EXAMPLES

    table.add_argument("model", help="a built-in model (" + ", ".join(EXAMPLES) + "), "
                       "MODULE:ATTRIBUTE naming an nn.Module, or a class or function that builds "
                       "one without arguments, or a RUN_DIR of timedist fit")
    table.add_argument("--input-size", type=_shapes,
                       help="input shape, e.g. 4,12,8; several inputs separated by ';' "
                       "(default for built-in models: their usual input)")
    table.add_argument("--depth", type=_non_negative, default=3,
                       help="submodule levels to list (default: 3)")
    _add_explain(commands)
    commands.add_parser("datasets", help="list the built-in datasets")
    return parser


def _list_datasets() -> int:
    from .data import DATASETS, load_dataset

    rows = [("name", "task", "sample", "train", "test", "source")]
    for name, info in DATASETS.items():
        train, test = load_dataset(name)
        rows.append((name, info.task, info.sample, str(len(train)), str(len(test)), info.source))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        print("  ".join(cells).rstrip())
    return 0


def _add_explain(commands: Any) -> None:
    """``timedist explain rnn|lstm|gru|conv2d|time-distributed [options] [--png F] [--json]``."""
    explain = commands.add_parser(
        "explain", help="a verified walk-through of the shapes of an RNN, a convolution or "
        "TimeDistributed")
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
            sub.add_argument("--proj-size", type=_non_negative, default=0,
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


def _positive(text: str) -> int:
    return _integer(text, 1)


def _non_negative(text: str) -> int:
    return _integer(text, 0)


def _explained(text: str) -> int:
    return _integer(text, 1, EXPLAIN_LARGEST)


def _layers(text: str) -> int:
    return _integer(text, 1, EXPLAIN_LAYERS)


def _integer(text: str, minimum: int, maximum: int | None = None) -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        most = f" and <= {maximum}" if maximum is not None else ""
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}{most}; got {text!r}")
    return value


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


def _run_explain(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    _explain_options(parser, args)

    from .inspect import explain

    if args.png:
        from ._atomic import check_output
        from .train.rundir import run_file_reason

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
        from .inspect.diagram import draw

        draw(explanation, args.png, replace=args.overwrite)
        if not args.json:
            print(f"\nwrote {args.png}")
    return 0


def _shapes(text: str) -> list[tuple[int, ...]]:
    """``4,12,8;4,12`` -> [(4, 12, 8), (4, 12)]: every size a positive integer."""
    try:
        shapes = [tuple(int(d) for d in part.split(",")) for part in text.split(";")]
    except ValueError:
        shapes = []
    if not shapes or any(d < 1 for shape in shapes for d in shape):
        raise argparse.ArgumentTypeError(
            f"expected shapes of positive sizes like 4,12,8 or 4,12,8;4,12; got {text[:80]!r}")
    return shapes


_LOADING = False  # a model factory is being called (summary MODULE:ATTRIBUTE)


def _load_model(spec: str) -> Any:
    """A built-in name or ``package.module:attribute`` -> an nn.Module (a factory is called)."""
    import importlib

    from torch import nn

    from ._checks import shorten_text
    from .inspect.examples import EXAMPLES

    if spec in EXAMPLES:
        return EXAMPLES[spec].build()
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"expected a built-in model ({', '.join(EXAMPLES)}) or "
                         f"MODULE:ATTRIBUTE, e.g. mypackage.models:build; got {spec!r}")
    obj = getattr(importlib.import_module(module_name), attribute)
    global _LOADING
    try:
        _LOADING = True  # (a factory that runs timedist's own main would run this again)
        model = obj if isinstance(obj, nn.Module) else obj()
    except (Exception, SystemExit) as error:  # not callable, needs arguments, or anything else
        raise ValueError(f"expected {spec} to be an nn.Module, or a class or function that "
                         f"builds one without arguments; calling it failed: "
                         f"{type(error).__name__}: {shorten_text(str(error), 120)}") from None
    finally:
        _LOADING = False
    if not isinstance(model, nn.Module):
        raise ValueError(f"expected {spec} to be or build an nn.Module; got {type(model).__name__}")
    return model


def debugging(args: argparse.Namespace) -> bool:
    """``--debug`` or ``TIMEDIST_DEBUG=1``: let errors through with their traceback."""
    return bool(getattr(args, "debug", False)) or os.environ.get("TIMEDIST_DEBUG") == "1"


MAX_MESSAGE = 1000  # characters of one error line; values inside are already cut at ~200
_KNOWN = (ValueError, TypeError, OSError, ImportError)  # timedist's own errors are these


# what needs less memory, by command (out-of-memory advice names the command's own flags)
_SMALLER = {"summary": "a smaller --input-size",
            "explain": "smaller --batch, --seq-len, --hidden-size, --input-size, --size",
            "tour": "a machine with more free memory"}
_SMALLER_FIT = "--batch-size, --num-features, --hidden-size, --size, --subset"


def error_line(error: BaseException, command: str = "fit") -> str:
    """The one line ``timedist COMMAND`` prints for a failure: the error's message on one
    line, at most ``MAX_MESSAGE`` characters. For an error raised in a DataLoader worker (a
    clip that fails past its first frame) torch adds the worker's traceback: only its own last
    line is kept. An error of a kind timedist does not raise itself is named as a bug; running
    out of memory gets advice in the command's own settings."""
    from ._checks import middle_cut

    text = str(error)
    if "DataLoader worker process" in text and "Original Traceback" in text:
        last = text.strip().splitlines()[-1]  # "package.module.ClipError: <message>"
        text = last.split(": ", 1)[1] if ": " in last else last
    filename = getattr(error, "filename", None) if isinstance(error, OSError) else None
    if isinstance(filename, (str, os.PathLike)) and (
            str(filename) not in text or getattr(error, "strerror", None)):
        text = f"{filename}: {error.strerror or text}"  # type: ignore[attr-defined]
    # one line; a word longer than a value may be (a 5000-character path) keeps its ends
    text = " ".join(middle_cut(word) for word in text.split()) or type(error).__name__
    if isinstance(error, MemoryError) or (isinstance(error, RuntimeError) and (
            "allocate" in text or "out of memory" in text.lower())):
        text = (f"out of memory ({text[:200]}); smaller settings need less: "
                f"{_SMALLER.get(command, _SMALLER_FIT)}")
    elif not isinstance(error, _KNOWN) and type(error).__name__ != "TrainingError":
        text = (f"unexpected {type(error).__name__}: {text} (a bug in timedist: rerun with "
                "--debug and report it)")
    if len(text) > MAX_MESSAGE:
        text = f"{text[: MAX_MESSAGE - 40]}... ({len(text)} characters)"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit status: 0, 1 for a failure at run time (one line
    on stderr), 2 for a usage error (argparse's), 130 for Ctrl-C. Every command's failures
    pass through here: ``--debug`` or ``TIMEDIST_DEBUG=1`` shows the traceback instead."""
    if _LOADING:
        raise RuntimeError("timedist's command line was called by a model factory")
    for stream in (sys.stdout, sys.stderr):  # a path in a narrow encoding: escaped, not fatal
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    stdout, sys.stdout = sys.stdout, _ReaderMayLeave(sys.stdout)  # type: ignore[assignment]
    try:
        return _main(args, parser)
    finally:
        sys.stdout = stdout


class _ReaderMayLeave:
    """``sys.stdout`` for a reader that may stop reading (``timedist fit ... | head -1``): when
    the pipe closes, the rest of the output is dropped (fd 1 is pointed at os.devnull) and the
    command runs to its end, its run kept, instead of failing on the next print."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self._drop()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._drop()

    def _drop(self) -> None:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _main(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        if args.command in ("fit", "evaluate", "predict", "export"):
            from .train_cli import run_training_command

            return run_training_command(args)
        return _run(parser, args)
    except KeyboardInterrupt as error:
        print(f"timedist {args.command}: {error or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as error:  # one line, never a traceback (unless asked)
        if debugging(args):
            raise
        print(f"timedist {args.command}: error: {error_line(error, args.command)}", file=sys.stderr)
        return 1


def _run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command == "tour":
        from ._showcase import run_showcase

        return 0 if run_showcase(seed=args.seed) else 1
    if args.command == "summary":
        from pathlib import Path

        from .inspect import summary

        run_input = None
        if (Path(args.model) / "config.yaml").is_file():  # a run directory of timedist fit:
            from .train import load_run  # what fails there is a failure at run time (exit 1)

            model, run_input = load_run(args.model)
        else:
            try:
                model = _load_model(args.model)
            except (ImportError, AttributeError, ValueError) as error:
                parser.error(f"summary: {error}")
        sizes = args.input_size or ([run_input] if run_input else None)
        if sizes is None:
            from .inspect.examples import EXAMPLES

            if args.model not in EXAMPLES:
                parser.error("summary: expected --input-size for a model given by path")
            sizes = [EXAMPLES[args.model].input_size]
        print(summary(model, sizes[0] if len(sizes) == 1 else sizes, depth=args.depth))
        return 0
    if args.command == "explain":
        return _run_explain(parser, args)
    if args.command == "datasets":
        return _list_datasets()
    parser.print_help()
    return 0
