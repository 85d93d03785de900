"""The Keras flow every timedist recurrent layer shares (RNN/LSTM/GRU and ConvLSTM).

``forward(x, hx=None, *, lengths=None, mask=None)``: validate x, resolve lengths (a prefix per
sample), take the carried states of a ``stateful`` layer, check hx, reverse the valid steps for
``go_backwards``, run the recurrence (the layer's ``_run``), keep the final states if stateful,
and shape the output (``return_sequences``, ``return_state``). Layers supply ``validate_input``,
``_check_hx``, ``_run``, ``_step`` and, if they need more than the last valid step,
``_format_output``.

``step(x_t, state=None) -> (y_t, state)`` runs one time step for streaming: fed a sequence one
step at a time it gives what ``forward`` gives at each step.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from .._checks import shape_error, tracing
from ..masking import last_valid, resolve_lengths, reverse_valid

__all__ = ["SequenceLayer"]


class SequenceLayer:
    """Mixin for layers that map (B, T, ...) sequences with Keras' recurrent options."""

    batch_first: bool
    return_sequences: bool
    return_state: bool
    go_backwards: bool
    stateful: bool
    _states: Any

    def _set_options(self, return_sequences: bool, return_state: bool, go_backwards: bool,
                     stateful: bool) -> None:
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self._states = None

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _time_dim(self) -> int:
        return 1 if self.batch_first else 0

    # -- supplied by each layer ----------------------------------------------------------------

    def validate_input(self, x: Tensor) -> tuple[int, int]:
        """Check x; return (B, T)."""
        raise NotImplementedError

    def _check_hx(self, hx: Any, x: Tensor, batch: int) -> None:
        """Check initial states given for input x (B, T, ...)."""
        raise NotImplementedError

    def _state_batch(self, state: Any) -> int:
        """The batch size of carried states (for ``stateful``)."""
        raise NotImplementedError

    def _run(self, x: Tensor, hx: Any, lengths: Tensor | None, steps: int) -> tuple[Tensor, Any]:
        """(output sequence with zeros at padded steps, final states)."""
        raise NotImplementedError

    def _step(self, x: Tensor, state: Any) -> tuple[Tensor, Any]:
        """One step x_t -> (y_t, state), state checked or None (zeros)."""
        raise NotImplementedError

    # -- the shared flow -----------------------------------------------------------------------

    def forward(
        self,
        x: Tensor,
        hx: Any = None,
        *,
        lengths: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> Any:
        """Run the layer; see the class docstring for every output shape."""
        batch, steps = self.validate_input(x)
        lengths = resolve_lengths(self._name, mask, lengths, batch, steps)
        return self._forward_resolved(x, hx, lengths, batch, steps)

    def _forward_resolved(self, x: Tensor, hx: Any, lengths: Tensor | None, batch: int,
                          steps: int) -> Any:
        """forward() after x was validated ((B, T) = (batch, steps)) and lengths resolved to
        (B,) or None, once (Bidirectional's entry for both directions)."""
        if lengths is not None:
            lengths = lengths.to(x.device)
            if not tracing() and bool((lengths == steps).all()):
                lengths = None  # nothing padded: the fast unmasked kernel (eager only)
        if self.stateful and tracing():
            raise ValueError(
                f"{self._name}: expected stateful=False when compiled or exported (the carried "
                "states live in Python between calls, which a graph cannot hold); got "
                "stateful=True. Build the layer with return_state=True and pass the states "
                "as hx, or use step(x_t, state)")
        if hx is None and self.stateful and self._states is not None:
            if self._state_batch(self._states) != batch:
                stored = self._state_batch(self._states)
                raise shape_error(
                    f"{self._name}(stateful=True)",
                    f"input with B={stored}, the batch size of the stored states", x.shape,
                    hint="Call reset_states() to start anew",
                )
            hx = self._states
        if hx is not None:
            self._check_hx(hx, x, batch)
        if self.go_backwards:
            x = self._reverse(x, lengths)
        out, state = self._run(x, hx, lengths, steps)
        if self.stateful:
            self._states = _detach(state)
        output = self._format_output(out, lengths)
        return (output, state) if self.return_state else output

    def step(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """One time step, for streaming: ``forward`` fed one step at a time.

        x_t is one step of the input without the time dim ((B, F) for RNN/LSTM/GRU, (B, C, *S)
        for ConvLSTM); ``state`` is None (zeros) or what the last call returned, in the
        layout of ``hx``. Returns ``(y_t, state)``: y_t is what ``forward`` outputs at that
        step with ``return_sequences=True``. Layers that look ahead (bidirectional,
        go_backwards) have no step. Dropout is not applied: streaming is inference.
        """
        if self.go_backwards:
            raise ValueError(f"{self._name}: expected go_backwards=False for step() (it reads "
                             "the sequence from its end); got go_backwards=True")
        return self._step(x, state)

    def reset_states(self) -> None:
        """Forget the states a ``stateful`` layer carries from one call to the next."""
        self._states = None

    def _reverse(self, x: Tensor, lengths: Tensor | None) -> Tensor:
        """Reverse each sample's valid steps (all steps without lengths)."""
        if lengths is None:
            return x.flip(self._time_dim())
        return reverse_valid(x, lengths, batch_first=self.batch_first)

    def _format_output(self, out: Tensor, lengths: Tensor | None) -> Any:
        """The whole sequence, or each sample's last valid step."""
        if self.return_sequences:
            return out
        if lengths is None:
            return out.select(self._time_dim(), -1)
        return last_valid(out, lengths, batch_first=self.batch_first)

    def _options_repr(self) -> list[str]:
        defaults = {"return_sequences": True, "return_state": False, "go_backwards": False,
                    "stateful": False}
        return [f"{k}={getattr(self, k)!r}" for k, v in defaults.items() if getattr(self, k) != v]


def _detach(state: Any) -> Any:
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
