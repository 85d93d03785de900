"""Convolutional backbones for signal classification and regression (Fawaz et al.).

``FCN`` (Wang et al. 2017: three conv-BN-ReLU blocks, 128-256-128 filters, kernels 8-5-3),
``ResNet`` (three residual blocks of that FCN, 64-128-128 filters) and ``InceptionTime``
(Fawaz et al. 2020: inception modules with a bottleneck, kernels 40/20/10 and a max-pool
branch, a residual link every three modules). All end in global average pooling over the valid
steps and a linear head. Lengths: padded steps are zeroed after every block, so each sample
sees the same zero padding as when alone (BatchNorm statistics do include padded steps).
Kernel sizes are made odd so "same" padding is symmetric.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .._checks import shape_error
from ..masking import lengths_to_mask, mask_to_lengths

__all__ = ["FCN", "InceptionTime", "ResNet"]


def _conv_bn(in_channels: int, out_channels: int, kernel: int, relu: bool = True
             ) -> nn.Sequential:
    kernel -= 1 - kernel % 2  # odd: symmetric "same" padding
    return nn.Sequential(nn.Conv1d(in_channels, out_channels, kernel, padding=kernel // 2,
                                   bias=False),
                         nn.BatchNorm1d(out_channels), nn.ReLU() if relu else nn.Identity())


class _Backbone(nn.Module):
    """Shared input checks, masking and pooled head: subclasses define ``blocks``."""

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
        if mask is not None:
            lengths = mask_to_lengths(mask, layer=name)
        keep = (lengths_to_mask(lengths.to(x.device), x.shape[1]).unsqueeze(1).to(x.dtype)
                if lengths is not None else None)  # (B, 1, T)
        h = x.transpose(1, 2)  # (B, C, T)
        for block in self.blocks:
            h = block(h)
            if keep is not None:
                h = h * keep
        pooled = h.mean(-1) if keep is None else h.sum(-1) / keep.sum(-1).clamp_min(1)
        out: Tensor = self.head(pooled)
        return out


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
        self.blocks = nn.ModuleList([_conv_bn(in_channels, width, 8),
                                     _conv_bn(width, 2 * width, 5), _conv_bn(2 * width, width, 3)])


class _Residual(nn.Module):
    """Three conv-BN blocks (kernels 8, 5, 3) plus a 1x1-conv-BN shortcut, then ReLU."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv_bn(in_channels, out_channels, 8),
                                  _conv_bn(out_channels, out_channels, 5),
                                  _conv_bn(out_channels, out_channels, 3, relu=False))
        self.shortcut = _conv_bn(in_channels, out_channels, 1, relu=False)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.body(x) + self.shortcut(x))


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
        self.pool = nn.Sequential(nn.MaxPool1d(3, stride=1, padding=1),
                                  nn.Conv1d(in_channels, filters, 1, bias=False))
        self.norm = nn.Sequential(nn.BatchNorm1d(filters * (len(kernels) + 1)), nn.ReLU())

    def forward(self, x: Tensor) -> Tensor:
        h = self.bottleneck(x)
        out: Tensor = self.norm(torch.cat([c(h) for c in self.convs] + [self.pool(x)], 1))
        return out


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
            _conv_bn(in_channels if i == 0 else width, width, 1, relu=False)
            for i in range(depth // 3))

    def forward(self, x: Tensor) -> Tensor:
        residual = x
        for i, module in enumerate(self.modules_):
            x = module(x)
            if i % 3 == 2:
                x = torch.relu(x + self.shortcuts[i // 3](residual))
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
