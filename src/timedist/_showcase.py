"""What ``timedist tour`` prints: the classic TimeDistributed and LSTM examples, each checked.

Every line states a shape, a parameter count or an identity that was computed just now and
compared against a per-step loop; nothing is hard-coded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from ._version import __version__
from .recurrent import LSTM
from .time_distributed import TimeDistributed

__all__ = ["run_showcase"]


def _per_step(module: nn.Module, x: Tensor) -> Tensor:
    """The slow reference: ``module`` called on x[:, t] for every t, stacked on dim 1."""
    return torch.stack([module(x[:, t]) for t in range(x.shape[1])], dim=1)


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def _small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
    )


def run_showcase(seed: int = 0, out: Callable[[str], Any] = print) -> bool:
    """Print the examples; return True if every check held."""
    torch.manual_seed(seed)
    ok = True

    def show(title: str, layer: TimeDistributed, x: Tensor, **kwargs: Any) -> Tensor:
        nonlocal ok
        with torch.no_grad():
            y: Tensor = layer(x, **kwargs)
            ref = _per_step(layer.module, x)
            if "lengths" in kwargs:  # padded steps: zeros in the reference too
                valid = torch.arange(x.shape[1]) < kwargs["lengths"][:, None]
                ref = ref * valid.view(*valid.shape, *([1] * (ref.dim() - 2)))
        line = f"{title:<44} {tuple(x.shape)!s:>22} -> {tuple(y.shape)!s:<22}"
        line += f" params={_params(layer):>6,}"
        same = torch.allclose(y, ref, atol=1e-5, rtol=1e-4)
        ok &= same
        line += f"  per-step loop: {'equal' if same else 'DIFFERENT'}"
        out(line)
        return y

    out(f"timedist {__version__} (torch {torch.__version__}): one module at every time step.")
    out("Each line is computed now and compared with a per-step loop.\n")
    show("TimeDistributed(Conv2d(3, 16, 3))", TimeDistributed(nn.Conv2d(3, 16, 3)),
         torch.randn(5, 3, 3, 256, 256))
    show("TimeDistributed(Linear(8, 10))", TimeDistributed(nn.Linear(8, 10)),
         torch.randn(4, 12, 8))
    show("TimeDistributed(Conv2d(3, 32, 3, padding=1))",
         TimeDistributed(nn.Conv2d(3, 32, 3, padding=1)), torch.randn(2, 12, 3, 32, 32))
    cnn = TimeDistributed(_small_cnn()).eval()
    show("TimeDistributed(Sequential CNN) [eval]", cnn, torch.randn(2, 6, 3, 32, 32))

    # Channels-last video: folding (B, T) is a view, no copy.
    video = torch.randn(2, 6, 32, 32, 3).permute(0, 1, 4, 2, 3)  # (B, T, C, H, W), C innermost
    conv = TimeDistributed(nn.Conv2d(3, 8, 3))
    captured: list[Tensor] = []
    hook = conv.module.register_forward_pre_hook(lambda m, a: captured.append(a[0]))
    show("channels-last video (B, T, C, H, W)", conv, video)
    hook.remove()
    shares = captured[0].data_ptr() == video.data_ptr()
    ok &= shares
    out(f"{'':<44} folded input shares the video's storage: {shares}")

    # Masks: padded steps are skipped and come out as zeros.
    lengths = torch.tensor([6, 3])
    y = show("Sequential CNN with lengths=[6, 3]", cnn, torch.randn(2, 6, 3, 32, 32),
             lengths=lengths)
    zeros = bool((y[1, 3:] == 0).all())
    ok &= zeros
    out(f"{'':<44} padded steps 3..5 of sample 1 are zero: {zeros}")
    ok &= _recurrent(out)
    out("\nall checks passed" if ok else "\nSOME CHECKS FAILED")
    return ok


def _recurrent(out: Callable[[str], Any]) -> bool:
    """A bidirectional LSTM's last step and states, checked against torch sample by sample."""
    out("\nLSTM(8, 16, bidirectional=True, return_sequences=False, return_state=True)")
    lstm = LSTM(8, 16, bidirectional=True, return_sequences=False, return_state=True)
    reference = nn.LSTM(8, 16, bidirectional=True, batch_first=True)
    reference.load_state_dict(lstm.state_dict())
    x, lengths = torch.randn(3, 10, 8), [10, 4, 7]
    with torch.no_grad():
        last, (h_n, _) = lstm(x, lengths=torch.tensor(lengths))
        per_sample = [reference(x[b : b + 1, :n])[0][0] for b, n in enumerate(lengths)]
        expected = torch.stack([torch.cat([o[-1, :16], o[0, 16:]]) for o in per_sample])
        naive = reference(x)[0][:, -1]
    same = torch.allclose(last, expected, atol=1e-6)
    states = torch.allclose(h_n, torch.stack([expected[:, :16], expected[:, 16:]]), atol=1e-6)
    gap = float((naive - expected).abs().max())
    out(f"{'  x (B, T, F) with lengths=[10, 4, 7]':<44} {(3, 10, 8)!s:>22} -> {tuple(last.shape)}")
    out(f"{'':<44} forward at each last valid step + backward at step 0, "
        f"= torch per sample: {'equal' if same else 'DIFFERENT'}")
    out(f"{'':<44} torch's output[:, -1] instead would be off by up to {gap:.2f}")
    out(f"{'  h_n (L*D, B, U), even with batch_first':<44} {'':>22}    {tuple(h_n.shape)}: "
        f"h_n[0] = forward, h_n[1] = backward: {'equal' if states else 'DIFFERENT'}")
    return same and states and gap > 1e-3
