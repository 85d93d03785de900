"""Which device a run uses: the ``--accelerator`` setting read on this machine."""

from __future__ import annotations

import os

import torch

from .config import ConfigError

__all__ = ["resolve_device"]


def resolve_device(accelerator: str, devices: int = 1) -> torch.device:
    """The device ``accelerator`` names on this machine: ``auto`` -> a CUDA GPU when there
    is one, else the CPU; ``gpu``/``cuda`` -> the GPU (a ConfigError when there is none).
    ``devices`` (processes on this machine) must be at most its GPUs, or its CPU cores."""
    gpu = torch.cuda.is_available()
    if accelerator in ("gpu", "cuda"):
        if not gpu:
            raise ConfigError(f"--accelerator {accelerator}: expected a CUDA GPU; this machine "
                              "has none (use --accelerator auto or cpu)")
        device = torch.device("cuda")
    elif accelerator in ("auto", "cpu"):
        device = torch.device("cuda" if gpu and accelerator == "auto" else "cpu")
    else:
        raise ConfigError(f"--accelerator: expected auto, cpu or gpu; got {accelerator!r}")
    if device.type == "cuda":
        have, unit = torch.cuda.device_count(), "GPUs"
    elif hasattr(os, "sched_getaffinity"):  # the cores this process may run on
        have, unit = len(os.sched_getaffinity(0)), "CPU cores"
    else:
        have, unit = os.cpu_count() or 1, "CPU cores"
    if devices > have:
        raise ConfigError(f"--devices {devices}: this machine has {have} {unit} for "
                          f"--accelerator {accelerator}; expected at most {have} (one process "
                          "each)")
    return device
