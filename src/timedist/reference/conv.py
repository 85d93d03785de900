"""2-D cross-correlation ("convolution" in deep learning) as loops, from one channel up.

Shapes: X (H, W) one channel, (C_i, H, W) several, (N, C_i, H, W) a batch; K (k_h, k_w),
(C_i, k_h, k_w), (C_o, C_i, k_h, k_w). Output size per spatial dim: H - k_h + 1 (no padding,
stride 1), or (H + 2 p - k_h) // s + 1 for :func:`conv2d`.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["conv2d", "corr2d", "corr2d_multi_in", "corr2d_multi_in_out", "corr2d_multi_in_out_1x1"]


def corr2d(X: Tensor, K: Tensor) -> Tensor:
    """Y[i, j] = sum(X[i:i+k_h, j:j+k_w] * K): X (H, W), K (k_h, k_w) -> (H-k_h+1, W-k_w+1).

    >>> corr2d(torch.arange(9.).view(3, 3), torch.arange(4.).view(2, 2))
    tensor([[19., 25.],
            [37., 43.]])
    """
    h, w = K.shape
    Y = X.new_zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i : i + h, j : j + w] * K).sum()
    return Y


def corr2d_multi_in(X: Tensor, K: Tensor) -> Tensor:
    """Sum over input channels of one-channel correlations: X (C_i, H, W), K (C_i, k_h, k_w)."""
    return torch.stack([corr2d(x, k) for x, k in zip(X, K, strict=True)]).sum(dim=0)


def corr2d_multi_in_out(X: Tensor, K: Tensor) -> Tensor:
    """One multi-input correlation per output channel: K (C_o, C_i, k_h, k_w) -> (C_o, H', W')."""
    return torch.stack([corr2d_multi_in(X, k) for k in K])


def corr2d_multi_in_out_1x1(X: Tensor, K: Tensor) -> Tensor:
    """A 1x1 convolution is a matrix product: (C_o, C_i) @ (C_i, H*W) -> (C_o, H, W).

    X (C_i, H, W), K (C_o, C_i, 1, 1).
    """
    c_i, h, w = X.shape
    c_o = K.shape[0]
    return (K.reshape(c_o, c_i) @ X.reshape(c_i, h * w)).reshape(c_o, h, w)


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def conv2d(
    X: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
) -> Tensor:
    """torch.nn.functional.conv2d by loops: X (N, C_i, H, W), weight (C_o, C_i, k_h, k_w).

    Zero-pads, correlates every sample with :func:`corr2d_multi_in_out` at stride 1, keeps every
    ``stride``-th position and adds ``bias`` (C_o,). Output (N, C_o, H', W') with
    H' = (H + 2 p_h - k_h) // s_h + 1.
    """
    (s_h, s_w), (p_h, p_w) = _pair(stride), _pair(padding)
    padded = X.new_zeros((*X.shape[:2], X.shape[2] + 2 * p_h, X.shape[3] + 2 * p_w))
    padded[:, :, p_h : p_h + X.shape[2], p_w : p_w + X.shape[3]] = X
    Y = torch.stack([corr2d_multi_in_out(x, weight)[:, ::s_h, ::s_w] for x in padded])
    return Y if bias is None else Y + bias.view(1, -1, 1, 1)
