"""Convolutional backbones for signal classification and regression (Fawaz et al.).

``FCN`` (Wang et al. 2017: three conv-BN-ReLU blocks, 128-256-128 filters, kernels 8-5-3),
``ResNet`` (three residual blocks of that FCN, 64-128-128 filters) and ``InceptionTime``
(Fawaz et al. 2020: inception modules with a bottleneck, kernels 40/20/10 and a max-pool
branch, a residual link every three modules). All end in global average pooling over the valid
steps and a linear head. Lengths: padded steps are set to zero after every convolution (and
to -inf before max-pooling), so a sample in a padded batch gets what it gets alone (in eval
mode; BatchNorm's training statistics do include padded steps). Kernel sizes are made odd so
"same" padding is symmetric.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import shape_error
from ..masking import lengths_to_mask, resolve_lengths

__all__ = ["FCN", "InceptionTime", "ResNet"]

Keep = Tensor | None  # (B, 1, T) bool: True on valid steps; None: every step is valid


def _keep(h: Tensor, keep: Keep, fill: float = 0.0) -> Tensor:
    return h if keep is None else torch.where(keep, h, fill)


class _ConvBN(nn.Module):
    """Conv1d ("same", odd kernel) -> BatchNorm -> ReLU (optional), padding kept at zero."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, relu: bool = True
                 ) -> None:
        super().__init__()
        kernel -= 1 - kernel % 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2,
                              bias=False)
        self.norm = nn.BatchNorm1d(out_channels)
        self.relu = nn.ReLU() if relu else nn.Identity()

    def forward(self, x: Tensor, keep: Keep) -> Tensor:
        return _keep(self.relu(self.norm(self.conv(x))), keep)


class _Backbone(nn.Module):
    """Input checks, masking and the pooled head: subclasses define ``blocks`` (modules
    called as ``block(h, keep)`` on (B, C, T))."""

    blocks: nn.ModuleList

    def __init__(self, in_channels: int, num_outputs: int, features: int) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.head = nn.Linear(features, num_outputs)

    def forward(self, x: Tensor, lengths: Tensor | None = None,
                mask: Tensor | None = None) -> Tensor:
        name = type(self).__name__
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise shape_error(name, f"input (B, T, C) with C={self.in_channels}", x.shape)
        lengths = resolve_lengths(name, mask, lengths, x.shape[0], x.shape[1])
        keep = (lengths_to_mask(lengths.to(x.device), x.shape[1]).unsqueeze(1)
                if lengths is not None else None)
        h = _keep(x.transpose(1, 2), keep)  # (B, C, T)
        for block in self.blocks:
            h = block(h, keep)
        pooled = h.mean(-1) if keep is None else h.sum(-1) / keep.sum(-1).clamp_min(1)
        out: Tensor = self.head(pooled)
        return out


class _Plain(nn.Module):
    """Conv blocks in sequence."""

    def __init__(self, *layers: _ConvBN) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor, keep: Keep) -> Tensor:
        for layer in self.layers:
            x = layer(x, keep)
        return x


class FCN(_Backbone):
    """Fully convolutional network: conv(8)-conv(5)-conv(3), each BN + ReLU, global average
    pooling, linear head.

    Shape: x (B, T, C), lengths (B,) or mask (B, T) -> (B, num_outputs).

    >>> import torch
    >>> FCN(3, 5)(torch.randn(2, 40, 3), lengths=torch.tensor([40, 12])).shape
    torch.Size([2, 5])
    """

    def __init__(self, in_channels: int, num_outputs: int, *, width: int = 128) -> None:
        super().__init__(in_channels, num_outputs, width)
        self.blocks = nn.ModuleList([_Plain(_ConvBN(in_channels, width, 8),
                                            _ConvBN(width, 2 * width, 5),
                                            _ConvBN(2 * width, width, 3))])


class _Residual(nn.Module):
    """Three conv-BN blocks (kernels 8, 5, 3) plus a 1x1-conv-BN shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = _Plain(_ConvBN(in_channels, out_channels, 8),
                           _ConvBN(out_channels, out_channels, 5),
                           _ConvBN(out_channels, out_channels, 3, relu=False))
        self.shortcut = _ConvBN(in_channels, out_channels, 1, relu=False)

    def forward(self, x: Tensor, keep: Keep) -> Tensor:
        return torch.relu(self.body(x, keep) + self.shortcut(x, keep))


class ResNet(_Backbone):
    """Three residual blocks (width, 2 width, 2 width filters), global average pooling, head.

    Shape: x (B, T, C), lengths (B,) or mask (B, T) -> (B, num_outputs).

    >>> import torch
    >>> ResNet(1, 2, width=8)(torch.randn(4, 30, 1)).shape
    torch.Size([4, 2])
    """

    def __init__(self, in_channels: int, num_outputs: int, *, width: int = 64) -> None:
        super().__init__(in_channels, num_outputs, 2 * width)
        self.blocks = nn.ModuleList([_Residual(in_channels, width), _Residual(width, 2 * width),
                                     _Residual(2 * width, 2 * width)])


def _max_pool3(x: Tensor) -> Tensor:
    """Max-pooling of (B, C, T) over 3 steps, stride 1, padded: ``MaxPool1d(3, 1, 1)`` as the
    maximum of three shifted copies (torch's max_pool1d fixes T when exported)."""
    padded = nn.functional.pad(x, (1, 1), value=-torch.inf)
    steps = x.shape[-1]
    return torch.maximum(torch.maximum(padded[..., :steps], padded[..., 1 : steps + 1]),
                         padded[..., 2:])


class _Inception(nn.Module):
    """Bottleneck, three parallel convolutions and a max-pool branch, concatenated, BN, ReLU."""

    def __init__(self, in_channels: int, filters: int, kernels: tuple[int, ...],
                 bottleneck: int) -> None:
        super().__init__()
        self.bottleneck = (nn.Conv1d(in_channels, bottleneck, 1, bias=False)
                           if in_channels > 1 else nn.Identity())
        width = bottleneck if in_channels > 1 else in_channels
        odd = [k - 1 + k % 2 for k in kernels]
        self.convs = nn.ModuleList(nn.Conv1d(width, filters, k, padding=k // 2, bias=False)
                                   for k in odd)
        self.pool_conv = nn.Conv1d(in_channels, filters, 1, bias=False)
        self.norm = nn.Sequential(nn.BatchNorm1d(filters * (len(kernels) + 1)), nn.ReLU())

    def forward(self, x: Tensor, keep: Keep) -> Tensor:
        h = self.bottleneck(x)  # 1x1, no bias: padding stays zero
        pooled = self.pool_conv(_keep(_max_pool3(_keep(x, keep, -torch.inf)), keep))
        return _keep(self.norm(torch.cat([c(h) for c in self.convs] + [pooled], 1)), keep)


class _InceptionStack(nn.Module):
    """``depth`` inception modules; the input is added back (1x1 conv + BN) every third."""

    def __init__(self, in_channels: int, filters: int, depth: int, kernels: tuple[int, ...],
                 bottleneck: int) -> None:
        super().__init__()
        width = filters * (len(kernels) + 1)
        self.modules_ = nn.ModuleList(
            _Inception(in_channels if i == 0 else width, filters, kernels, bottleneck)
            for i in range(depth))
        self.shortcuts = nn.ModuleList(
            _ConvBN(in_channels if i == 0 else width, width, 1, relu=False)
            for i in range(depth // 3))

    def forward(self, x: Tensor, keep: Keep) -> Tensor:
        residual = x
        for i, module in enumerate(self.modules_):
            x = module(x, keep)
            if i % 3 == 2:
                x = torch.relu(x + self.shortcuts[i // 3](residual, keep))
                residual = x
        return x


class InceptionTime(_Backbone):
    """One InceptionTime network (the paper ensembles five): ``depth`` inception modules of
    ``filters`` filters per branch (kernels 40/20/10 and max-pooling), residual every third,
    global average pooling, head.

    Shape: x (B, T, C), lengths (B,) or mask (B, T) -> (B, num_outputs).

    >>> import torch
    >>> InceptionTime(2, 3, filters=8, depth=3)(torch.randn(2, 50, 2)).shape
    torch.Size([2, 3])
    """

    def __init__(self, in_channels: int, num_outputs: int, *, filters: int = 32, depth: int = 6,
                 kernels: tuple[int, ...] = (40, 20, 10), bottleneck: int = 32) -> None:
        super().__init__(in_channels, num_outputs, filters * (len(kernels) + 1))
        self.blocks = nn.ModuleList([_InceptionStack(in_channels, filters, depth, kernels,
                                                     bottleneck)])
