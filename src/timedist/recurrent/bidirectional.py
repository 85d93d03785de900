"""``Bidirectional``: run a recurrent layer forward and backward in time and merge the two."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import Tensor, nn

from .._checks import check_choice, type_error
from .._wrapper import Wrapper
from ..masking import resolve_lengths, reverse_valid
from .merge import MERGE_MODES, merge_directions

__all__ = ["Bidirectional"]

_RECURRENT_API = ("_forward_resolved", "go_backwards", "return_sequences", "return_state",
                  "batch_first", "feature_dim")


def _check_recurrent(owner: str, layer: object, role: str) -> None:
    if not isinstance(layer, nn.Module) or not all(hasattr(layer, a) for a in _RECURRENT_API):
        raise type_error(owner, f"{role} to be a timedist recurrent layer (RNN, LSTM, GRU, "
                         "ConvLSTM)", layer)
    if getattr(layer, "bidirectional", False):
        raise ValueError(f"{owner}: expected a unidirectional {role}; got "
                         f"{type(layer).__name__}(bidirectional=True), already bidirectional")


class Bidirectional(Wrapper):
    """Run a recurrent layer forward and backward in time and merge the two (Keras' wrapper).

    ``forward_layer`` is ``layer``; ``backward_layer`` is a deep copy with fresh weights and
    ``go_backwards`` flipped (or the given one). The backward output is re-aligned in time (only
    the valid steps are reversed when lengths are given) and merged with ``merge_mode``:
    ``"concat"`` (features of the forward direction first), ``"sum"``, ``"mul"``, ``"ave"`` or
    None (the pair). ``return_sequences``, ``return_state`` and ``batch_first`` come from
    ``layer``.

    ``forward(x, hx=None, *, lengths=None, mask=None)``: ``hx`` is None or a pair
    ``(forward_hx, backward_hx)`` in the wrapped layer's own format.

    Shape (for RNN/LSTM/GRU with U units; ConvLSTM merges along its channel dimension):
        - Input: (B, T, F) (or (T, B, F)); lengths (B,) or mask (B, T) prefix.
        - Output: (B, T, 2U) for "concat", (B, T, U) for sum/mul/ave, a pair for None;
          (B, 2U) etc. with ``return_sequences=False`` (forward at the last valid step, backward
          at step 0).
        - ``return_state=True``: ``(output, forward_state, backward_state)``, each state in the
          wrapped layer's format, e.g. ``(h_n, c_n)`` with h_n (L, B, U) for an LSTM.

    ``Bidirectional(LSTM(F, U))`` computes what ``LSTM(F, U, bidirectional=True)`` does when the
    weights are copied across; with ``num_layers > 1`` they differ (torch feeds both directions
    of layer l to layer l+1; Bidirectional stacks two independent multi-layer RNNs, as Keras).

    Example:
        >>> import torch, timedist
        >>> layer = timedist.Bidirectional(timedist.GRU(8, 16), merge_mode="sum")
        >>> layer(torch.randn(4, 10, 8), lengths=torch.tensor([10, 2, 5, 7])).shape
        torch.Size([4, 10, 16])
    """

    def __init__(
        self,
        layer: nn.Module,
        *,
        merge_mode: str | None = "concat",
        backward_layer: nn.Module | None = None,
    ) -> None:
        super().__init__(layer)
        _check_recurrent(self.name, layer, "layer")
        check_choice(self.name, "merge_mode", merge_mode, MERGE_MODES)
        if backward_layer is None:
            backward_layer = copy.deepcopy(layer)
            backward_layer.go_backwards = not layer.go_backwards  # type: ignore[assignment]
            reset = getattr(backward_layer, "reset_parameters", None)
            if callable(reset):
                reset()
        else:
            _check_recurrent(self.name, backward_layer, "backward_layer")
            for attr in ("return_sequences", "return_state", "batch_first"):
                if getattr(backward_layer, attr) != getattr(layer, attr):
                    raise ValueError(
                        f"{self.name}: expected backward_layer.{attr} == layer.{attr} = "
                        f"{getattr(layer, attr)}; got {getattr(backward_layer, attr)}"
                    )
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError(f"{self.name}: expected backward_layer.go_backwards = "
                                 f"{not layer.go_backwards} (the opposite of layer's); got "
                                 f"{backward_layer.go_backwards}")
            units = [getattr(x, "hidden_size", getattr(x, "hidden_channels", None))
                     for x in (layer, backward_layer)]
            if merge_mode in ("sum", "mul", "ave") and units[0] != units[1]:
                raise ValueError(f"{self.name}: merge_mode={merge_mode!r} adds or multiplies "
                                 f"the two directions: expected backward_layer of the same size "
                                 f"as layer ({units[0]}); got {units[1]} (or use 'concat')")
        self.forward_layer = layer
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode

    @property
    def return_sequences(self) -> bool:
        """Whether the output holds every step (B, T, ...) or the last (B, ...) (the wrapped
        layer's)."""
        return bool(self.forward_layer.return_sequences)

    @property
    def return_state(self) -> bool:
        """Whether the final states of both directions are returned too: the wrapped layer's."""
        return bool(self.forward_layer.return_state)

    @property
    def batch_first(self) -> bool:
        """Whether inputs are (B, T, ...) rather than (T, B, ...): the wrapped layer's."""
        return bool(self.forward_layer.batch_first)

    def extra_repr(self) -> str:
        return "" if self.merge_mode == "concat" else f"merge_mode={self.merge_mode!r}"

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> Any:
        """The output's shape(s) for an input of ``input_shape`` (nothing is computed)."""
        inner = self.forward_layer.compute_output_shape(input_shape)  # type: ignore[operator]
        out, state = inner if self.return_state else (inner, None)
        if self.merge_mode == "concat":
            dims = list(out)
            dims[self.forward_layer.feature_dim] *= 2  # type: ignore[index]
            out = torch.Size(dims)
        merged = (out, out) if self.merge_mode is None else out
        return (merged, state, state) if self.return_state else merged

    def reset_states(self) -> None:
        """Forget the carried states of both directions (``stateful`` layers)."""
        for layer in (self.forward_layer, self.backward_layer):
            layer.reset_states()  # type: ignore[operator]

    def forward(
        self,
        x: Tensor,
        hx: Any = None,
        *,
        lengths: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Any:
        """Both directions, re-aligned and merged; see the class docstring for shapes."""
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise type_error(self.name, "hx = (forward_hx, backward_hx)", hx)
        hx_f, hx_b = (None, None) if hx is None else hx
        batch, steps = self.forward_layer.validate_input(x)  # type: ignore[operator]
        valid = resolve_lengths(self.name, mask, lengths, batch, steps)  # once, for both
        if valid is not None:
            valid = valid.to(x.device)
        out_f = self.forward_layer._forward_resolved(  # type: ignore[operator]
            x, hx_f, valid, batch, steps)
        out_b = self.backward_layer._forward_resolved(  # type: ignore[operator]
            x, hx_b, valid, batch, steps)
        (y_f, state_f), (y_b, state_b) = (
            (out_f, out_b) if self.return_state else ((out_f, None), (out_b, None))
        )
        if self.return_sequences:  # backward outputs come in reversed order: put them back
            tdim = 1 if self.batch_first else 0
            y_b = (y_b.flip(tdim) if valid is None
                   else reverse_valid(y_b, valid, batch_first=self.batch_first))
        dim: int = getattr(self.forward_layer, "feature_dim")  # noqa: B009
        merged = merge_directions(y_f, y_b, self.merge_mode, dim=dim)
        return (merged, state_f, state_b) if self.return_state else merged
