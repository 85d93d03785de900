"""TimeDistributed: speed and memory next to the usual alternatives (not a test).

Prints markdown tables (forward+backward medians; peak training memory) for
- a Linear on (32, 500, 64) and a small CNN on (8, 16, 3, 64, 64), default and channels-last
  layouts: timedist merge vs hand-written fold/unfold vs per-step loop vs torch.func.vmap vs
  Keras 3 TimeDistributed (if ``keras`` imports with KERAS_BACKEND=torch);
- masked input with 50 % padded steps vs unmasked;
- peak memory of one CNN training step: plain vs chunk_size vs checkpoint vs both.

Candidates are timed round-robin (one call of each per round) so that drift of a shared machine
hits them all alike. ``--quick`` shrinks every size (a smoke run); ``--png FILE`` draws the speed
table as a bar chart.

    python benchmarks/time_distributed.py [--quick] [--rounds N] [--png FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial

os.environ.setdefault("KERAS_BACKEND", "torch")

import torch
from torch import Tensor, nn

from timedist import TimeDistributed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import (
    Step,
    machine_line,
    print_table,
    rows_versus,
    time_round_robin,
    train_step,
)


def cnn(width: int = 16) -> nn.Sequential:
    """Conv-ReLU-pool x2, conv, global pool, linear: (C=3, H, W) -> (10,). No BatchNorm (vmap)."""
    return nn.Sequential(
        nn.Conv2d(3, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * width, 10),
    )


def keras_cnn(width: int = 16, channels_first: bool = True) -> object:
    import keras

    fmt = "channels_first" if channels_first else "channels_last"
    return keras.Sequential([
        keras.layers.Conv2D(width, 3, padding="same", activation="relu", data_format=fmt),
        keras.layers.MaxPooling2D(2, data_format=fmt),
        keras.layers.Conv2D(2 * width, 3, padding="same", activation="relu", data_format=fmt),
        keras.layers.MaxPooling2D(2, data_format=fmt),
        keras.layers.Conv2D(4 * width, 3, padding="same", activation="relu", data_format=fmt),
        keras.layers.GlobalAveragePooling2D(data_format=fmt),
        keras.layers.Dense(10),
    ])


def hand_fold(module: nn.Module) -> Callable[[Tensor], Tensor]:
    def run(x: Tensor) -> Tensor:
        b, t = x.shape[:2]
        return module(x.reshape(b * t, *x.shape[2:])).reshape(b, t, -1)

    return run


def loop(module: nn.Module) -> Callable[[Tensor], Tensor]:
    return lambda x: torch.stack([module(x[:, t]) for t in range(x.shape[1])], 1)


def vmapped(module: nn.Module) -> Callable[[Tensor], Tensor]:
    return torch.func.vmap(module, in_dims=1, out_dims=1)


def keras_td(layer: object) -> Callable[[Tensor], Tensor] | None:
    try:
        import keras
    except ImportError:
        return None
    if keras.backend.backend() != "torch":
        return None
    td = keras.layers.TimeDistributed(layer)
    return lambda x: td(x)


def speed_cases(quick: bool) -> list[tuple[str, nn.Module, Tensor, Tensor, object | None]]:
    """(label, torch module, input, channels-last-for-keras input or same, keras layer)."""
    import importlib.util

    has_keras = importlib.util.find_spec("keras") is not None
    b, t, f = (4, 20, 16) if quick else (32, 500, 64)
    cb, ct, hw = (2, 4, 16) if quick else (8, 16, 64)
    torch.manual_seed(0)
    linear = nn.Linear(f, f)
    x_lin = torch.randn(b, t, f)
    k_dense = None
    if has_keras:
        import keras

        k_dense = keras.layers.Dense(f)
    model = cnn()
    x_default = torch.randn(cb, ct, 3, hw, hw)
    x_nhwc = torch.randn(cb, ct, hw, hw, 3)
    x_cl = x_nhwc.permute(0, 1, 4, 2, 3)  # (B, T, C, H, W) view, channels innermost
    k_first = keras_cnn(channels_first=True) if has_keras else None
    k_last = keras_cnn(channels_first=False) if has_keras else None
    return [
        (f"Linear({f},{f}) on {tuple(x_lin.shape)}", linear, x_lin, x_lin, k_dense),
        (f"CNN on {tuple(x_default.shape)}", model, x_default, x_default, k_first),
        (f"CNN on {tuple(x_cl.shape)} channels-last", model, x_cl, x_nhwc, k_last),
    ]


def run_speed(quick: bool, rounds: int) -> list[dict[str, object]]:
    rows = []
    for label, module, x, x_keras, k_layer in speed_cases(quick):
        xg = x.detach().requires_grad_()
        steps: dict[str, Step] = {
            "timedist merge": train_step(TimeDistributed(module), xg),
            "hand-written fold": train_step(hand_fold(module), xg),
            "per-step loop": train_step(loop(module), xg),
            "torch.func.vmap": train_step(vmapped(module), xg),
        }
        fn = keras_td(k_layer) if k_layer is not None else None
        if fn is not None:
            steps["Keras 3 TimeDistributed"] = train_step(fn, x_keras.detach().requires_grad_())
        case = rows_versus(time_round_robin(steps, rounds), "hand-written fold")
        rows += [{"case": label, **row} for row in case]
        print_table(case, f"{label}: forward+backward", versus="hand-written")
    return rows


def run_masked(quick: bool, rounds: int) -> list[dict[str, object]]:
    rows = []
    for label, module, x, _, _ in speed_cases(quick)[:2]:
        b, t = x.shape[:2]
        generator = torch.Generator().manual_seed(0)
        lengths = torch.randint(1, t + 1, (b,), generator=generator)
        lengths = (lengths.float() * (t / 2) / lengths.float().mean()).round().clamp(1, t).long()
        layer = TimeDistributed(module)
        xg = x.detach().requires_grad_()
        padded = 1 - lengths.sum().item() / (b * t)
        steps: dict[str, Step] = {
            "unmasked": train_step(layer, xg),
            f"lengths ({padded:.0%} padded)": train_step(partial(layer, lengths=lengths), xg),
        }
        case = rows_versus(time_round_robin(steps, rounds), "unmasked")
        rows += [{"case": label, **row} for row in case]
        print_table(case, f"{label}: masked vs unmasked", versus="unmasked")
    return rows


MEMORY_CONFIGS = {
    "plain": {},
    "chunk_size=16": {"chunk_size": 16},
    "checkpoint": {"checkpoint": True},
    "chunk_size=16 + checkpoint": {"chunk_size": 16, "checkpoint": True},
}


def _status_mib(key: str) -> float:
    """A memory figure of this process from /proc/self/status (VmRSS, VmHWM) in MiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(key)


def memory_probe(config: str, quick: bool) -> None:
    """In a fresh process: peak RSS growth (MiB) of one training step; prints JSON.

    Linux only: writing 5 to /proc/self/clear_refs resets the peak (VmHWM) to the current RSS.
    """
    torch.manual_seed(0)
    cb, ct, hw = (2, 4, 32) if quick else (8, 16, 64)
    layer = TimeDistributed(cnn(), **MEMORY_CONFIGS[config])  # type: ignore[arg-type]
    x = torch.randn(cb, ct, 3, hw, hw, requires_grad=True)
    layer(x[:, :1]).pow(2).sum().backward()  # first-use costs (kernels, checkpoint) go here
    layer.zero_grad(set_to_none=True)
    x.grad = None
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_mib("VmRSS")
    layer(x).pow(2).sum().backward()
    print(json.dumps({"config": config, "peak_mib": _status_mib("VmHWM") - before}))


def run_memory(quick: bool) -> list[dict[str, object]]:
    # A fixed mmap threshold makes glibc return every large tensor to the OS when it is freed,
    # so the process' peak RSS tracks the peak of live tensors.
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "2"}
    rows: list[dict[str, object]] = []
    for config in MEMORY_CONFIGS:
        args = [sys.executable, __file__, "--memory-probe", config] + (["--quick"] if quick else [])
        out = subprocess.run(args, env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = max(float(rows[0]["peak_mib"]), 1e-9)  # type: ignore[arg-type]
    for row in rows:
        row["vs_plain"] = float(row["peak_mib"]) / base  # type: ignore[arg-type]
    shape = (2, 4, 3, 32, 32) if quick else (8, 16, 3, 64, 64)
    print(f"\n### Peak memory of one training step, CNN on {shape}\n")
    print("| configuration | peak RSS growth (MiB) | vs plain |\n|---|---:|---:|")
    for row in rows:
        print(f"| {row['config']} | {row['peak_mib']:.1f} | {row['vs_plain']:.2f}x |")
    return rows


def plot(rows: list[dict[str, object]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = list(dict.fromkeys(str(r["case"]) for r in rows))
    fig, axes = plt.subplots(1, len(cases), figsize=(5 * len(cases), 3.6), squeeze=False)
    for ax, case in zip(axes[0], cases, strict=True):
        sub = [r for r in rows if r["case"] == case]
        ax.barh([str(r["impl"]) for r in sub], [float(r["ms"]) for r in sub], color="#4c72b0")  # type: ignore[arg-type]
        ax.invert_yaxis()
        ax.set_xlabel("fwd+bwd median ms (lower is better)")
        ax.set_title(case, fontsize=9)
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=120)
    os.replace(tmp, path)  # atomic: never a half-written PNG


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds (default: 30)")
    parser.add_argument("--png", help="write the speed table as a bar chart to this file")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    if args.memory_probe:
        memory_probe(args.memory_probe, args.quick)
        return
    print(f"## Machine\n\n{machine_line()}")
    speed = run_speed(args.quick, args.rounds)
    run_masked(args.quick, args.rounds)
    run_memory(args.quick)
    if args.png:
        plot(speed, args.png)
        print(f"\nwrote {args.png}")


if __name__ == "__main__":
    main()
