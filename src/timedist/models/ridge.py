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

__all__ = ["ALPHAS", "RidgeFit", "RidgeStats", "fit_temperature", "ridge_cv"]

# Penalties tried, for features standardized to unit variance (scikit-learn's ROCKET grid,
# logspace(-3, 3, 10), widened upwards: many features on few samples often want more).
ALPHAS = tuple(float(a) for a in torch.logspace(-3, 5, 17, dtype=torch.float64))


class RidgeFit(NamedTuple):
    """weight (F, K), bias (K,), the chosen alpha, leave-one-out predictions (M, K) of the
    rows ``rows`` (M,) (every row for :func:`ridge_cv`, the kept ones for :class:`RidgeStats`)."""

    weight: Tensor
    bias: Tensor
    alpha: float
    loo: Tensor
    rows: Tensor


def _loo_search(basis: Tensor, s: Tensor, projected: Tensor, dual: bool, y: Tensor,
                y_mean: Tensor, n: int, alphas: tuple[float, ...]) -> tuple[float, Tensor]:
    """(alpha, leave-one-out predictions (M, K)) minimizing the mean squared leave-one-out
    error over all targets (ties: the larger alpha). basis (M, r): the rows in the
    eigenbasis, s (r,) the eigenvalues, projected (r, K) the centred targets in it, y (M, K)
    the rows' targets; the hat matrix is basis diag(shrink) basis^T + 1/n (the intercept)."""
    best: tuple[float, float, Tensor] | None = None
    for alpha in sorted(alphas):
        shrink = s / (s + alpha) if dual else 1 / (s + alpha)
        fitted = y_mean + basis @ (shrink[:, None] * projected)  # (M, K)
        leverage = ((basis.pow(2) * shrink).sum(1) + 1 / n)[:, None]
        loo = (fitted - y * leverage) / (1 - leverage).clamp_min(1e-12)
        error = float((loo - y).pow(2).mean())
        if best is None or error <= best[1]:
            best = (alpha, error, loo)
    assert best is not None
    return best[0], best[2]


def ridge_cv(x: Tensor, y: Tensor, alphas: tuple[float, ...] = ALPHAS) -> RidgeFit:
    """Fit ``y ~ x @ weight + bias`` with an L2 penalty alpha chosen from ``alphas`` by the
    mean squared leave-one-out error over all targets (ties: the larger alpha).

    x (N, F), y (N, K) float -> :class:`RidgeFit`. The intercept is not penalized. Computed
    in float64; the result has x's dtype. Samples > features: the covariance form
    (:class:`RidgeStats` over every row).

    >>> x = torch.randn(30, 5); w = torch.randn(5, 1)
    >>> fit = ridge_cv(x, x @ w + 2)
    >>> torch.allclose(fit.weight, w, atol=1e-2), round(float(fit.bias), 2)
    (True, 2.0)
    """
    n = len(x)
    if n > x.shape[1]:
        stats = RidgeStats(x.mean(0), y.shape[1], keep=torch.arange(n, device=x.device))
        stats.add(x, y, 0)
        fit = stats.solve(alphas=alphas)  # on x - mean
        bias = fit.bias - stats.mean @ fit.weight
        return fit._replace(weight=fit.weight.to(x.dtype), bias=bias.to(x.dtype),
                            loo=fit.loo.to(x.dtype))
    x64, y64 = x.double(), y.double()
    x_mean, y_mean = x64.mean(0), y64.mean(0)
    xc, yc = x64 - x_mean, y64 - y_mean
    s, basis = torch.linalg.eigh(xc @ xc.T)  # Xc Xc^T = Q diag(s) Q^T
    s = s.clamp_min(0)
    projected = basis.T @ yc  # (N, K)
    alpha, loo = _loo_search(basis, s, projected, True, y64, y_mean, n, alphas)
    weight = xc.T @ (basis @ (projected / (s + alpha)[:, None]))  # Xc^T Q diag(1/(s+a)) Q^T yc
    bias = y_mean - x_mean @ weight
    return RidgeFit(weight.to(x.dtype), bias.to(x.dtype), alpha, loo.to(x.dtype),
                    torch.arange(n, device=x.device))


class RidgeStats:
    """One pass of sufficient statistics for a ridge fit on more rows than fit in memory.

    Rows arrive in batches (:meth:`add`); only float64 sums are kept: the Gram matrix of the
    features (F, F), their sums, their products with the targets, and the features of the
    rows listed in ``keep`` (for leave-one-out). Features are shifted by ``shift`` (F,)
    before summing, a value near their mean (e.g. the first batch's), so centring later loses
    no precision. :meth:`solve` then standardizes, eigendecomposes the Gram matrix once and
    chooses the penalty by the exact leave-one-out error of the kept rows under the fit on
    every row (:func:`ridge_cv`'s covariance form restricted to those rows). Statistics of
    several processes (shards of the rows, the same ``shift`` and ``keep``) merge by summing
    :meth:`tensors` (e.g. ``torch.distributed.all_reduce``).

    >>> x = torch.randn(500, 4); y = x @ torch.randn(4, 1) + torch.randn(500, 1)
    >>> stats = RidgeStats(x[:100].mean(0), 1, keep=torch.arange(0, 500, 10))
    >>> for i in range(0, 500, 128): stats.add(x[i:i + 128], y[i:i + 128], i)
    >>> fit = stats.solve()  # the same fit as on every row in memory, at the penalty chosen
    >>> whole = ridge_cv(x - x.mean(0), y, (fit.alpha,))
    >>> torch.allclose(fit.weight.float(), whole.weight)
    True
    >>> torch.allclose(fit.loo.float(), whole.loo[::10])
    True
    """

    def __init__(self, shift: Tensor, targets: int, keep: Tensor, *,
                 batch_dtype: torch.dtype = torch.float64) -> None:
        features = len(shift)
        self.shift = shift.detach().double()
        self.keep = keep
        self.batch_dtype = batch_dtype
        self.n = 0

        def zeros(*size: int) -> Tensor:
            return torch.zeros(*size, dtype=torch.float64, device=shift.device)

        self.gram, self.sums = zeros(features, features), zeros(features)
        self.cross, self.target_sums = zeros(features, targets), zeros(targets)
        self.kept, self.kept_targets = zeros(len(keep), features), zeros(len(keep), targets)

    def tensors(self) -> list[Tensor]:
        """The statistics that add up across shards (kept rows are zero where not seen)."""
        return [self.gram, self.sums, self.cross, self.target_sums, self.kept, self.kept_targets]

    def add(self, x: Tensor, y: Tensor, start: int) -> None:
        """Add rows ``start .. start + B`` (their indices in the whole set): x (B, F), y (B, K).

        The batch's products are computed in ``batch_dtype`` (float32 on a GPU, whose float64
        is many times slower; each batch's error is then ~1e-7 relative) and summed into the
        float64 totals."""
        xs, yb = x.to(self.batch_dtype) - self.shift.to(self.batch_dtype), y.to(self.batch_dtype)
        if self.batch_dtype == torch.float64:
            self.gram.addmm_(xs.T, xs)
            self.cross.addmm_(xs.T, yb)
        else:
            self.gram.add_(xs.T @ xs)
            self.cross.add_(xs.T @ yb)
        self.sums += xs.double().sum(0)
        self.target_sums += yb.double().sum(0)
        self.n += len(x)
        slots = torch.nonzero((self.keep >= start) & (self.keep < start + len(x)))[:, 0]
        self.kept[slots] = (x[self.keep[slots] - start].double() - self.shift)
        self.kept_targets[slots] = y[self.keep[slots] - start].double()

    @property
    def mean(self) -> Tensor:
        """(F,) the features' mean, float64."""
        return self.shift + self.sums / self.n

    @property
    def std(self) -> Tensor:
        """(F,) the features' standard deviation (population), float64."""
        centred = self.gram.diagonal() - self.sums.pow(2) / self.n
        return (centred.clamp_min(0) / self.n).sqrt()

    def solve(self, scale: Tensor | None = None, alphas: tuple[float, ...] = ALPHAS) -> RidgeFit:
        """The ridge fit on ``z = (x - mean) * scale`` (scale (F,), default 1): weight (F, K)
        acts on z (bias: the targets' mean); loo (M, K) for the kept rows (``rows``); float64."""
        n = self.n
        scale = torch.ones_like(self.shift) if scale is None else scale.double()
        y_mean = self.target_sums / n
        gram = self.gram - torch.outer(self.sums, self.sums) / n  # centred
        cross = self.cross - torch.outer(self.sums, y_mean)
        s, v = torch.linalg.eigh(scale[:, None] * gram * scale)  # Zc^T Zc = V diag(s) V^T
        s = s.clamp_min(0)
        projected = v.T @ (scale[:, None] * cross)  # V^T Zc^T yc (F, K)
        basis = ((self.kept - self.sums / n) * scale) @ v  # kept rows' z in the eigenbasis
        alpha, loo = _loo_search(basis, s, projected, False, self.kept_targets, y_mean, n,
                                 alphas)
        weight = v @ (projected / (s + alpha)[:, None])
        return RidgeFit(weight, y_mean, alpha, loo, self.keep)


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
