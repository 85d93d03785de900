"""Ridge regression with the penalty chosen by exact leave-one-out error, in closed form.

What scikit-learn's ``RidgeCV``/``RidgeClassifierCV`` do by default (efficient leave-one-out,
"GCV" mode), written in torch: one eigendecomposition serves every candidate penalty. The
kernel (dual) form is used when samples <= features, the covariance (primal) form otherwise.
:func:`fit_temperature` turns a ridge classifier's scores into calibrated probabilities using
the same leave-one-out predictions.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["ALPHAS", "RidgeFit", "fit_temperature", "ridge_cv"]

# Penalties tried, for features standardized to unit variance (scikit-learn's ROCKET grid,
# logspace(-3, 3, 10), widened upwards: many features on few samples often want more).
ALPHAS = tuple(float(a) for a in torch.logspace(-3, 5, 17, dtype=torch.float64))


class RidgeFit(NamedTuple):
    """weight (F, K), bias (K,), the chosen alpha, and leave-one-out predictions (N, K)."""

    weight: Tensor
    bias: Tensor
    alpha: float
    loo: Tensor


def ridge_cv(x: Tensor, y: Tensor, alphas: tuple[float, ...] = ALPHAS) -> RidgeFit:
    """Fit ``y ~ x @ weight + bias`` with an L2 penalty alpha chosen from ``alphas`` by the
    mean squared leave-one-out error over all targets (ties: the larger alpha).

    x (N, F), y (N, K) float -> :class:`RidgeFit`. The intercept is not penalized. Computed
    in float64; the result has x's dtype.

    >>> x = torch.randn(30, 5); w = torch.randn(5, 1)
    >>> fit = ridge_cv(x, x @ w + 2)
    >>> torch.allclose(fit.weight, w, atol=1e-2), round(float(fit.bias), 2)
    (True, 2.0)
    """
    x64, y64 = x.double(), y.double()
    n = len(x64)
    x_mean, y_mean = x64.mean(0), y64.mean(0)
    xc, yc = x64 - x_mean, y64 - y_mean
    dual = n <= x64.shape[1]
    if dual:  # Xc Xc^T = Q diag(s) Q^T; hat = Q diag(s / (s + a)) Q^T
        s, basis = torch.linalg.eigh(xc @ xc.T)
    else:  # Xc^T Xc = V diag(s) V^T; hat = (Xc V) diag(1 / (s + a)) (Xc V)^T
        s, v = torch.linalg.eigh(xc.T @ xc)
        basis = xc @ v
    s = s.clamp_min(0)
    projected = basis.T @ yc  # (r, K)
    best: tuple[float, float, Tensor] | None = None
    for alpha in sorted(alphas):
        shrink = s / (s + alpha) if dual else 1 / (s + alpha)
        fitted = basis @ (shrink[:, None] * projected)  # centred fit (N, K)
        leverage = ((basis.pow(2) * shrink).sum(1) + 1 / n)[:, None]  # + the intercept's
        loo = y_mean + (fitted - yc * leverage) / (1 - leverage).clamp_min(1e-12)
        error = float((loo - y64).pow(2).mean())
        if best is None or error <= best[1]:
            best = (alpha, error, loo)
    assert best is not None
    alpha, _, loo = best
    if dual:  # weight = Xc^T Q diag(1 / (s + a)) Q^T yc
        weight = xc.T @ (basis @ (projected / (s + alpha)[:, None]))
    else:
        weight = v @ ((v.T @ (xc.T @ yc)) / (s + alpha)[:, None])
    bias = y_mean - x_mean @ weight
    return RidgeFit(weight.to(x.dtype), bias.to(x.dtype), alpha, loo.to(x.dtype))


def fit_temperature(scores: Tensor, labels: Tensor) -> float:
    """The factor t minimizing the cross-entropy of ``softmax(t * scores)``: scores (N, K)
    (held-out, e.g. leave-one-out), labels (N,) int. Searched on a log grid 0.01 .. 100, with
    the labels smoothed by 1/N (at most 0.1): N samples, all predicted right, do not justify
    probabilities beyond about 1 - 1/N."""
    grid = torch.logspace(-2, 2, 41, dtype=torch.float64)
    smoothing = min(0.1, 1 / max(len(labels), 1))
    losses = [float(F.cross_entropy(scores.double() * t, labels, label_smoothing=smoothing))
              for t in grid]
    return float(grid[losses.index(min(losses))])
