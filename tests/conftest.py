"""Test configuration: hypothesis profiles and the Keras backend (torch, never tensorflow)."""

from __future__ import annotations

import os

import torch
from hypothesis import HealthCheck, settings

os.environ.setdefault("KERAS_BACKEND", "torch")

# CI runs a fixed, derandomized set of examples; locally HYPOTHESIS_PROFILE=dev explores more.
settings.register_profile(
    "ci", max_examples=25, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

torch.set_num_threads(min(2, torch.get_num_threads()))
