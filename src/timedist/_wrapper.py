"""The base of the layers that wrap another module (TimeDistributed, Bidirectional)."""

from __future__ import annotations

from torch import nn

from ._checks import layer_name, type_error

__all__ = ["Wrapper"]


class Wrapper(nn.Module):
    """Base of the layers that wrap another module (TimeDistributed, Bidirectional).

    It checks that the wrapped object is an ``nn.Module`` and names the wrapper in messages;
    each subclass registers the wrapped module(s) under its own attribute names.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        if not isinstance(module, nn.Module):
            raise type_error(type(self).__name__, "an nn.Module to wrap", module)
        self.name = layer_name(type(self).__name__, module)
        """``"TimeDistributed(Conv2d)"``: how error messages name this layer."""
