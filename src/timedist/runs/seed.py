"""Seeding a run: Python's, numpy's and torch's generators from one seed."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed ``random``, numpy and torch (every device) with ``seed``, as Lightning's
    ``seed_everything(seed, workers=False)`` does — including its environment variables,
    which the processes Lightning starts for DDP read — without importing Lightning."""
    os.environ["PL_GLOBAL_SEED"] = str(seed)
    os.environ["PL_SEED_WORKERS"] = "0"
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
