"""A progress line with an ETA for long work done without Lightning (rocket's features).

On a terminal one line is rewritten in place (at most twice a second); in a log or CI a new
line is written at most every ``every`` seconds. Work that ends within ``quiet`` seconds
prints nothing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["Progress"]


def _duration(seconds: float) -> str:
    """'42 s', '3.5 min', '1.2 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


class Progress:
    """``progress(done, total)``: how far ``what`` is, in ``unit``, and the time left.

    >>> import io
    >>> out = io.StringIO()
    >>> bar = Progress("features", "series", stream=out, quiet=0, every=0)
    >>> bar(50, 200); bar(200, 200)
    >>> out.getvalue().splitlines()[-1].split(",")[0]
    'features: 200/200 series (100%)'
    """

    def __init__(self, what: str, unit: str, *, stream: TextIO | None = None,
                 every: float = 30.0, quiet: float = 3.0) -> None:
        self.what, self.unit = what, unit
        self.stream = sys.stdout if stream is None else stream
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every = 0.5 if self.live else every
        self.quiet = quiet
        self.started = time.perf_counter()
        self.shown = -float("inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        elapsed = now - self.started
        final = done >= total
        if elapsed < self.quiet or (not final and now - self.shown < self.every):
            return
        self.shown = now
        line = (f"{self.what}: {done:,}/{total:,} {self.unit} ({100 * done / max(total, 1):.0f}%),"
                f" {_duration(elapsed)}")
        if not final and done > 0:
            line += f", about {_duration(elapsed * (total - done) / done)} left"
        end = "\n" if final or not self.live else ""
        self.stream.write(("\r\033[K" if self.live else "") + line + end)
        self.stream.flush()
