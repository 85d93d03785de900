"""The command line's argument types and parser class: every usage error is one line."""

from __future__ import annotations

import argparse
import os
from typing import NoReturn

__all__ = ["Parser", "add_debug", "integer", "non_negative", "path", "positive", "shapes"]


class Parser(argparse.ArgumentParser):
    """argparse with a usage error as one line (where to find the usage: ``--help``), like
    every other error of timedist; its subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_debug(parser: argparse.ArgumentParser) -> None:
    """``--debug``, on a subcommand too (``timedist fit ... --debug``)."""
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")


def path(text: str) -> str:
    """A path argument: an empty one (a variable that was not set) is a usage error, and so
    is a file's name with a ``/`` after it."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path; got {text!r}")
    if text.endswith(("/", os.sep)) and os.path.isfile(text.rstrip("/" + os.sep)):
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a folder (a path ending in "
                                         "/ names a folder): drop the /")
    return text


def integer(text: str, minimum: int, maximum: int | None = None) -> int:
    """``text`` as an integer in [minimum, maximum], else a usage error naming the range."""
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum or (maximum is not None and value > maximum):
        most = f" and <= {maximum}" if maximum is not None else ""
        raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}{most}; got {text!r}")
    return value


def positive(text: str) -> int:
    """An integer >= 1."""
    return integer(text, 1)


def non_negative(text: str) -> int:
    """An integer >= 0."""
    return integer(text, 0)


def shapes(text: str) -> list[tuple[int, ...]]:
    """``4,12,8;4,12`` -> [(4, 12, 8), (4, 12)]: every size a positive integer."""
    try:
        found = [tuple(int(d) for d in part.split(",")) for part in text.split(";")]
    except ValueError:
        found = []
    if not found or any(d < 1 for shape in found for d in shape):
        raise argparse.ArgumentTypeError(
            f"expected shapes of positive sizes like 4,12,8 or 4,12,8;4,12; got {text[:80]!r}")
    return found
