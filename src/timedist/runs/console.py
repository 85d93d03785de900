"""What a run says: its steps on stdout, notes even when quiet, and no library chatter."""

from __future__ import annotations

import logging
import sys
import warnings

__all__ = ["note", "quiet_libraries", "say"]


def say(verbose: bool, text: str) -> None:
    """``text`` on stdout when ``verbose``."""
    if verbose:
        print(text, flush=True)


def note(verbose: bool, text: str) -> None:
    """A note (what the numbers are, what was not done) is said even when quiet: on stdout
    with the rest, else alone on stderr."""
    print(f"note   {text}", file=sys.stdout if verbose else sys.stderr, flush=True)


def quiet_libraries() -> None:
    """Lightning's and torch's messages that say nothing to a timedist user, silenced (log
    levels and warning filters only: nothing is imported)."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for text in ("does not have many workers", "The number of training batches",
                 "Checkpoint directory .* exists and is not empty", "GPU available",
                 "`isinstance\\(treespec, LeafSpec\\)` is deprecated",
                 "You defined a `validation_step` but have no `val_dataloader`"):
        warnings.filterwarnings("ignore", message=f".*{text}")
