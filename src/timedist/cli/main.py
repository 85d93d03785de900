"""The ``timedist`` command (also ``python -m timedist``): one table of commands, one error
handler.

:data:`COMMANDS` names each subcommand with its help, the function that adds its arguments
and the one that runs it: ``fit``, ``evaluate``, ``predict``, ``export``
(:mod:`timedist.cli.runs`), ``tour``, ``summary``, ``explain``, ``datasets``
(:mod:`timedist.cli.inspect`). Every failure passes through :func:`main`: one line, status 1
(usage errors: 2, argparse's; Ctrl-C: 130); ``--debug`` or ``TIMEDIST_DEBUG=1`` shows the
full traceback instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .._version import __version__
from . import inspect as inspecting
from . import runs
from .args import Parser, add_debug

__all__ = ["COMMANDS", "Command", "build_parser", "debugging", "error_line", "main"]


@dataclass(frozen=True)
class Command:
    """A subcommand: its one-line help, what adds its arguments to its parser, and what runs
    it (given the top parser, for usage errors, and the parsed arguments; returns the exit
    status)."""

    help: str
    add: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.ArgumentParser, argparse.Namespace], int]


COMMANDS: dict[str, Command] = {
    "fit": Command("train a model (default: CNN-LSTM on moving-digits) into a run directory",
                   runs.add_fit, runs.run_fit),
    "evaluate": Command("test a run's best checkpoint (its test split or a labelled file)",
                        runs.add_evaluate, runs.run_evaluate),
    "predict": Command("predict a file with a run's best checkpoint", runs.add_predict,
                       runs.run_predict),
    "export": Command("export a run's best model with its preprocessing to ONNX or .pt2",
                      runs.add_export, runs.run_export),
    "tour": Command("TimeDistributed and LSTM examples, each shape verified",
                    inspecting.add_tour, inspecting.run_tour),
    "summary": Command("a time-aware table of a model's layers, output shapes and parameters",
                       inspecting.add_summary, inspecting.run_summary),
    "explain": Command("a verified walk-through of the shapes of an RNN, a convolution or "
                       "TimeDistributed", inspecting.add_explain, inspecting.run_explain),
    "datasets": Command("list the built-in datasets", lambda parser: None,
                        inspecting.run_datasets),
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``timedist``: one subparser per entry of :data:`COMMANDS`."""
    parser = Parser(
        prog="timedist", description="Keras' temporal layers for PyTorch: run, inspect, train."
    )
    parser.add_argument("--version", action="version", version=f"timedist {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help)
        command.add(sub)
        add_debug(sub)
    return parser


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
    from .._checks import middle_cut

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
    if inspecting.LOADING:
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
        if args.command is None:
            parser.print_help()
            return 0
        return COMMANDS[args.command].run(parser, args)
    except KeyboardInterrupt as error:
        print(f"timedist {args.command}: {error or 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as error:  # one line, never a traceback (unless asked)
        if debugging(args):
            raise
        print(f"timedist {args.command}: error: {error_line(error, args.command)}", file=sys.stderr)
        return 1
