"""Keras-style recurrent layers: ``RNN``, ``LSTM`` and ``GRU`` as subclasses of torch's.

They keep torch's constructor, parameters and ``state_dict`` (interchangeable with
``torch.nn.LSTM`` etc. of the same configuration) and add what Keras users expect:
``batch_first=True`` by default, one output tensor (so they sit in ``nn.Sequential``),
``return_sequences``, ``return_state``, ``merge_mode``, ``go_backwards``, ``stateful``, and
variable lengths that never leak into outputs or states.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from .._checks import check_choice, shape_error, type_error, value_error
from . import kernel
from .base import SequenceLayer
from .merge import MERGE_MODES, merge_directions

__all__ = ["GRU", "LSTM", "RNN", "RecurrentMixin"]

_SHAPE_DOC = """
    Shape (D = 2 if bidirectional else 1, L = num_layers, U = hidden_size, or proj_size for an
    LSTM with a projection):
        - Input x: (B, T, F) with ``batch_first=True`` (default), else (T, B, F).
        - lengths: (B,) ints in [1, T] (any device), or mask: (B, T) bool prefix (True = valid).
        - Output, ``return_sequences=True``: (B, T, D*U) for merge_mode "concat", (B, T, U) for
          "sum"/"mul"/"ave", a pair of (B, T, U) for None; (T, B, ...) if not batch_first.
          Padded steps are 0. With ``go_backwards`` the steps come in processing (reversed)
          order, the valid steps first.
        - Output, ``return_sequences=False``: (B, D*U) or (B, U) (or the pair): the forward
          direction at each sample's last valid step and the backward direction at step 0.
        - ``return_state=True``: ``(output, h_n)`` (``(output, (h_n, c_n))`` for LSTM).
        - hx and states use torch's layout **whatever batch_first is**: h (L*D, B, U) and, for
          LSTM, c (L*D, B, hidden_size); row ``layer * D + direction`` (direction 0 = forward).
          ``h_n[-1]`` is the last layer's backward direction when D = 2; ``h_n[-D]`` its
          forward direction.
"""


class RecurrentMixin(SequenceLayer):
    """The Keras behaviour shared by RNN, LSTM and GRU (mixed into torch's classes)."""

    # Provided by torch.nn.RNNBase (and nn.Module):
    input_size: int
    hidden_size: int
    num_layers: int
    bias: bool
    dropout: float
    bidirectional: bool
    batch_first: bool
    proj_size: int
    nonlinearity: str
    training: bool

    def __init__(
        self,
        *args: Any,
        batch_first: bool = True,
        return_sequences: bool = True,
        return_state: bool = False,
        merge_mode: str | None = "concat",
        go_backwards: bool = False,
        stateful: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, batch_first=batch_first, **kwargs)  # type: ignore[call-arg]
        check_choice(self._name, "merge_mode", merge_mode, MERGE_MODES)
        if merge_mode != "concat" and not self.bidirectional:
            raise ValueError(f"{self._name}: merge_mode applies to bidirectional=True (one "
                             f"direction has nothing to merge); got merge_mode={merge_mode!r}")
        self.merge_mode = merge_mode
        self._set_options(return_sequences, return_state, go_backwards, stateful)

    # -- shape logic ---------------------------------------------------------------------------

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def units(self) -> int:
        """U: the size of each direction's output (``proj_size`` if an LSTM projects)."""
        return getattr(self, "proj_size", 0) or self.hidden_size

    @property
    def feature_dim(self) -> int:
        """The output dimension that holds the features (where directions are concatenated)."""
        return -1

    def validate_input(self, x: Tensor) -> tuple[int, int]:
        """Validate x (B, T, F) (or (T, B, F)); return (B, T)."""
        pattern = "(B, T, F)" if self.batch_first else "(T, B, F)"
        if not isinstance(x, Tensor):
            raise type_error(self._name, f"input x to be a Tensor {pattern}", x)
        if x.dim() != 3 or x.shape[-1] != self.input_size or x.shape[self._time_dim()] == 0:
            hint = "Add the batch dimension (x.unsqueeze(0))" if x.dim() == 2 else ""
            raise shape_error(self._name, f"input {pattern} with F={self.input_size} and T >= 1",
                              x.shape, hint=hint)
        steps = x.shape[self._time_dim()]
        return x.shape[1 - self._time_dim()], steps

    def expected_state_shape(self, batch: int) -> tuple[int, int, int]:
        """The shape of h0/h_n: (L*D, B, U) in torch's layout, whatever ``batch_first`` is."""
        return (self.num_layers * self._directions, batch, self.units)

    def compute_output_shape(self, input_shape: tuple[int, ...]) -> Any:
        """The output's shape(s) for an input of ``input_shape`` (nothing is computed)."""
        b, t = (input_shape[0], input_shape[1]) if self.batch_first else input_shape[1::-1]
        u = self.units * (self._directions if self.merge_mode == "concat" else 1)
        if self.return_sequences:
            out = torch.Size((b, t, u) if self.batch_first else (t, b, u))
        else:
            out = torch.Size((b, u))
        pair = self.bidirectional and self.merge_mode is None
        output: Any = (torch.Size((*out[:-1], self.units)),) * 2 if pair else out
        if not self.return_state:
            return output
        h = torch.Size(self.expected_state_shape(b))
        state = (h, torch.Size((*h[:-1], self.hidden_size))) if isinstance(self, nn.LSTM) else h
        return output, state

    def _check_hx(self, hx: Any, x: Tensor, batch: int) -> None:
        h_shape = self.expected_state_shape(batch)
        note = "torch's layout (L*D, B, U); batch_first does not change it"
        if isinstance(self, nn.LSTM):
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise type_error(self._name, "hx = (h0, c0) for an LSTM", hx)
            shapes = {"h0": (hx[0], h_shape), "c0": (hx[1], (*h_shape[:2], self.hidden_size))}
        else:
            shapes = {"h0": (hx, h_shape)}
        for name, (tensor, shape) in shapes.items():
            if not isinstance(tensor, Tensor):
                raise type_error(self._name, f"{name} to be a Tensor", tensor)
            if tuple(tensor.shape) != shape:
                batch_major = tensor.dim() == 3 and tuple(tensor.shape[1::-1]) == shape[:2]
                hint = f"It looks batch-first: pass {name}.transpose(0, 1)" if batch_major else ""
                raise shape_error(self._name, f"{name} {shape} in {note}", tensor.shape, hint=hint)

    def _run(self, x: Tensor, hx: Any, lengths: Tensor | None, steps: int) -> tuple[Tensor, Any]:
        """All layers and directions through the kernel ``kernel.run`` chooses."""
        return kernel.run(self, x, hx, lengths,  # type: ignore[arg-type]
                          need_states=self.return_state or self.stateful)

    def _step(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        if x.dim() != 2 or x.shape[-1] != self.input_size:
            raise shape_error(self._name, f"one step x_t (B, F) with F={self.input_size}",
                              x.shape)
        if self.bidirectional:
            raise ValueError(f"{self._name}: expected a unidirectional layer for step() (a "
                             "backward direction needs the future); got bidirectional=True")
        rows = self.expected_state_shape(x.shape[0])
        if state is None:
            state = kernel.initial_state(self, None, x.unsqueeze(1))  # type: ignore[arg-type]
        else:
            self._check_hx(state, x.unsqueeze(self._time_dim()), rows[1])
        y, new = kernel.step_layer(self, x,  # type: ignore[arg-type]
                                   tuple(state) if isinstance(state, (tuple, list)) else (state,))
        return y, (new if isinstance(self, nn.LSTM) else new[0])

    def _state_batch(self, state: Any) -> int:
        h = state[0] if isinstance(state, tuple) else state
        return int(h.shape[1])  # (L*D, B, U)

    def _format_output(self, out: Tensor, lengths: Tensor | None) -> Any:
        """torch's (B, T, D*U) output -> what return_sequences and merge_mode ask for."""
        if not self.bidirectional:
            return super()._format_output(out, lengths)
        if self.return_sequences and self.merge_mode == "concat":
            return out  # already (B, T, D*U): no split, no copy
        forward, backward = torch.split(out, self.units, dim=-1)
        if not self.return_sequences:  # forward at the last valid step, backward at step 0
            forward = super()._format_output(forward, lengths)
            backward = backward.select(self._time_dim(), 0)
        return merge_directions(forward, backward, self.merge_mode, dim=-1)

    def extra_repr(self) -> str:
        base: str = super().extra_repr()  # type: ignore[misc]
        merge = [] if self.merge_mode == "concat" else [f"merge_mode={self.merge_mode!r}"]
        return ", ".join([base, *self._options_repr(), *merge])


def _keras_to_torch(array: Any, like: Tensor) -> Tensor:
    """A Keras weight (numpy array, as ``get_weights()`` returns) as a tensor like ``like``."""
    return torch.as_tensor(np.asarray(array), dtype=like.dtype, device=like.device)


class RNN(RecurrentMixin, nn.RNN):  # type: ignore[misc]
    __doc__ = """Elman RNN (``torch.nn.RNN``) with Keras' options (``SimpleRNN`` in Keras).

    Every torch argument works (``nonlinearity``, ``num_layers``, ``bidirectional``, ...);
    ``batch_first`` defaults to True. Keyword-only: ``return_sequences=True``,
    ``return_state=False``, ``merge_mode="concat"``, ``go_backwards=False``, ``stateful=False``.
    ``forward(x, hx=None, *, lengths=None, mask=None)``.
    """ + _SHAPE_DOC + """
    Example:
        >>> import torch, timedist
        >>> rnn = timedist.RNN(8, 16, return_sequences=False)
        >>> rnn(torch.randn(4, 10, 8)).shape
        torch.Size([4, 16])
    """

    def load_keras_weights(self, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
                           layer: int = 0, direction: int = 0) -> None:
        """Copy a Keras SimpleRNN's weights: kernel (F, U), recurrent_kernel (U, U), bias (U,)."""
        _load(self, layer, direction, kernel, recurrent_kernel, bias, gates=None)


class LSTM(RecurrentMixin, nn.LSTM):  # type: ignore[misc]
    __doc__ = """LSTM (``torch.nn.LSTM``) with Keras' options.

    Every torch argument works (``num_layers``, ``bidirectional``, ``dropout``, ``proj_size``, ...);
    ``batch_first`` defaults to True. Keyword-only: ``return_sequences=True``,
    ``return_state=False``, ``merge_mode="concat"``, ``go_backwards=False``, ``stateful=False``.
    ``forward(x, hx=None, *, lengths=None, mask=None)``; ``hx = (h0, c0)``.
    """ + _SHAPE_DOC + """
    Example:
        >>> import torch, timedist
        >>> lstm = timedist.LSTM(8, 16, bidirectional=True, return_state=True)
        >>> out, (h_n, c_n) = lstm(torch.randn(4, 10, 8), lengths=torch.tensor([10, 3, 7, 1]))
        >>> out.shape, h_n.shape, c_n.shape
        (torch.Size([4, 10, 32]), torch.Size([2, 4, 16]), torch.Size([2, 4, 16]))
    """

    def load_keras_weights(self, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
                           layer: int = 0, direction: int = 0) -> None:
        """Copy a Keras LSTM's weights (``keras_layer.get_weights()``).

        Keras: kernel (F, 4U), recurrent_kernel (U, 4U), bias (4U,), gates i, f, c, o — the
        same order as torch's i, f, g, o. torch: weight_ih = kernel.T, weight_hh =
        recurrent_kernel.T, bias_ih = bias, bias_hh = 0 (torch adds two biases, Keras has one).
        """
        if self.proj_size:
            raise ValueError(f"{self._name}: Keras LSTMs have no projection; got proj_size="
                             f"{self.proj_size}")
        _load(self, layer, direction, kernel, recurrent_kernel, bias, gates=None)


class GRU(RecurrentMixin, nn.GRU):  # type: ignore[misc]
    __doc__ = """GRU (``torch.nn.GRU``) with Keras' options.

    Every torch argument works; ``batch_first`` defaults to True. Keyword-only:
    ``return_sequences=True``, ``return_state=False``, ``merge_mode="concat"``,
    ``go_backwards=False``, ``stateful=False``. ``forward(x, hx=None, *, lengths=None, mask=None)``.
    torch's GRU is Keras' ``GRU(reset_after=True)`` (the Keras 3 default).
    """ + _SHAPE_DOC + """
    Example:
        >>> import torch, timedist
        >>> gru = timedist.GRU(8, 16, num_layers=2, return_state=True)
        >>> out, h_n = gru(torch.randn(4, 10, 8))
        >>> out.shape, h_n.shape
        (torch.Size([4, 10, 16]), torch.Size([2, 4, 16]))
    """

    def load_keras_weights(self, kernel: Any, recurrent_kernel: Any, bias: Any = None, *,
                           layer: int = 0, direction: int = 0) -> None:
        """Copy a Keras GRU's weights (``reset_after=True``, the Keras 3 default).

        Keras: kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U) = (input bias, recurrent
        bias), gates z, r, h. torch: gates r, z, n, so the first two blocks swap; weight_ih =
        kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias[0], bias_hh = bias[1].
        """
        expected = (2, 3 * self.hidden_size)
        if bias is not None and np.shape(bias) != expected:
            raise shape_error(self._name, f"a Keras GRU bias (2, 3U) = {expected} (reset_after="
                              "True)", np.shape(bias), hint="reset_after=False has no torch "
                              "equivalent; build the Keras GRU with reset_after=True")
        _load(self, layer, direction, kernel, recurrent_kernel, bias, gates=(1, 0, 2))


def _load(
    module: RecurrentMixin,
    layer: int,
    direction: int,
    kernel: Any,
    recurrent_kernel: Any,
    bias: Any,
    gates: tuple[int, ...] | None,
) -> None:
    """Copy Keras arrays into layer ``layer``, direction ``direction`` of ``module``. Every
    array is converted and checked before anything is written: a bad one leaves the layer as
    it was."""
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    w_ih: Tensor = getattr(module, "weight_ih" + suffix)
    w_hh: Tensor = getattr(module, "weight_hh" + suffix)
    k = _keras_to_torch(kernel, w_ih).t()
    r = _keras_to_torch(recurrent_kernel, w_hh).t()
    if gates is not None:  # reorder gate blocks along dim 0
        k = torch.cat([k.chunk(len(gates))[g] for g in gates])
        r = torch.cat([r.chunk(len(gates))[g] for g in gates])
    for name, target, value in (("kernel", w_ih, k), ("recurrent_kernel", w_hh, r)):
        if value.shape != target.shape:
            raise shape_error(module._name, f"Keras {name} transposed to {tuple(target.shape)}",
                              value.shape)
    writes = [(w_ih, k), (w_hh, r)]
    if bias is not None:
        if not module.bias:
            raise value_error(module._name, "no Keras bias for a layer built with bias=False",
                              f"an array of shape {np.shape(bias)}",
                              hint="build it with bias=True, or pass bias=None")
        b_ih: Tensor = getattr(module, "bias_ih" + suffix)
        b = _keras_to_torch(bias, w_ih)
        expected = (2, *b_ih.shape) if gates is not None else tuple(b_ih.shape)
        if tuple(b.shape) != expected:
            raise shape_error(module._name, f"a Keras bias {expected}", b.shape)
        b_in, b_rec = (b[0], b[1]) if b.dim() == 2 else (b, torch.zeros_like(b))
        if gates is not None:
            b_in = torch.cat([b_in.chunk(len(gates))[g] for g in gates])
            b_rec = torch.cat([b_rec.chunk(len(gates))[g] for g in gates])
        writes += [(b_ih, b_in), (getattr(module, "bias_hh" + suffix), b_rec)]
    with torch.no_grad():
        for target, value in writes:
            target.copy_(value)
