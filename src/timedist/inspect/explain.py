"""Verified shape walk-throughs: build the real module, run it, print only what was checked.

Every shape printed is read off a tensor that was just computed, and every identity ("this slice
of the output equals that row of h_n") is tested with ``torch.equal``/``allclose`` before it is
printed; a failing check raises (a bug in timedist), it never prints something wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from .. import reference
from ..time_distributed import TimeDistributed

__all__ = ["Explanation", "explain", "explain_conv2d", "explain_rnn", "explain_time_distributed"]

_GATES = {"rnn": (1, "one block"), "lstm": (4, "gates i, f, g, o"), "gru": (3, "gates r, z, n")}


@dataclass
class Explanation:
    """A checked walk-through: ``str()`` is the text, ``to_json()`` the same facts as JSON.

    ``facts`` are (label, statement) pairs; ``data`` holds the machine-readable numbers (shapes
    as lists) that the statements were made from, for ``--json`` and the diagram.
    """

    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, label: str, statement: str) -> None:
        """Append one verified fact: a short label and the statement."""
        self.facts.append((label, statement))

    def __str__(self) -> str:
        width = max((len(label) for label, _ in self.facts), default=0)
        lines = [self.title, "=" * len(self.title)]
        for label, statement in self.facts:
            first, *rest = statement.split("\n")
            lines.append(f"{label:<{width}}  {first}")
            lines.extend(f"{'':<{width}}  {line}" for line in rest)
        return "\n".join(lines)

    def to_json(self) -> str:
        """The title, the facts and the data as indented JSON."""
        facts = [{"label": label, "statement": statement} for label, statement in self.facts]
        return json.dumps({"title": self.title, "facts": facts, **self.data}, indent=2)


def _check(holds: bool, claim: str) -> None:
    """Refuse to print a claim that does not hold."""
    if not holds:
        raise AssertionError(f"explain: {claim!r} does not hold - this is a bug in timedist")


def _shape(t: Tensor) -> str:
    return str(tuple(t.shape))


def explain_rnn(
    kind: str = "lstm",
    *,
    input_size: int = 4,
    hidden_size: int = 2,
    num_layers: int = 1,
    bidirectional: bool = False,
    seq_len: int = 3,
    batch: int = 2,
    batch_first: bool = False,
    proj_size: int = 0,
    seed: int = 0,
) -> Explanation:
    """Walk through torch.nn.RNN/LSTM/GRU: input, h0/c0, every weight, output, h_n/c_n.

    Shapes use T = seq_len, B = batch, F = input_size, L = num_layers, D = 2 if bidirectional
    else 1, U = hidden_size (proj_size for an LSTM that projects).
    """
    if kind not in _GATES:
        raise ValueError(f"explain: expected kind 'rnn', 'lstm' or 'gru'; got {kind!r}")
    if proj_size and kind != "lstm":
        raise ValueError(f"explain: expected proj_size only for 'lstm'; got kind {kind!r}")
    torch.manual_seed(seed)
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    extra = {"proj_size": proj_size} if proj_size else {}
    module = cls(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
                 batch_first=batch_first, **extra).eval()
    d = 2 if bidirectional else 1
    u = proj_size or hidden_size
    x = torch.randn((batch, seq_len, input_size) if batch_first else (seq_len, batch, input_size))
    with torch.no_grad():
        out, state = module(x)
    h_n, c_n = state if kind == "lstm" else (state, None)
    name = f"{cls.__name__}({input_size}, {hidden_size}, num_layers={num_layers}" + (
        ", bidirectional=True" if bidirectional else "") + (
        ", batch_first=True" if batch_first else "") + (
        f", proj_size={proj_size}" if proj_size else "") + ")"
    ex = Explanation(f"torch.nn.{name}: T={seq_len}, B={batch}, F={input_size}, L={num_layers}, "
                     f"D={d}, U={u}")
    layout = "(B, T, F)" if batch_first else "(T, B, F)"
    ex.add("input x", f"{layout} = {_shape(x)}")
    ex.add("h0", f"(L*D, B, U) = {(num_layers * d, batch, u)}, zeros when not given - "
                 "batch_first does not change it")
    if c_n is not None:
        ex.add("c0", f"(L*D, B, hidden_size) = {(num_layers * d, batch, hidden_size)}")

    gates, names = _GATES[kind]
    for layer in range(num_layers):
        for direction in range(d):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            reads = (f"F={input_size}: the input" if layer == 0 else
                     f"D*U={d * u}: layer {layer - 1}'s " +
                     ("two directions, concatenated" if d == 2 else "output"))
            w_ih = getattr(module, "weight_ih" + suffix)
            _check(tuple(w_ih.shape) == (gates * hidden_size, input_size if layer == 0 else d * u),
                   f"weight_ih{suffix} shape")
            lines = [f"{_shape(w_ih)} = ({gates}*{hidden_size}, {w_ih.shape[1]}): {names}, "
                     f"reads {reads}"]
            w_hh = getattr(module, "weight_hh" + suffix)
            lines.append(f"weight_hh{suffix} {_shape(w_hh)} = ({gates}*{hidden_size}, U={u})")
            if module.bias:
                lines.append(f"bias_ih{suffix}, bias_hh{suffix} "
                             f"{_shape(getattr(module, 'bias_ih' + suffix))} each")
            if proj_size:
                w_hr = getattr(module, "weight_hr" + suffix)
                lines.append(f"weight_hr{suffix} {_shape(w_hr)}: projects c-sized h to U")
            ex.add(f"weight_ih{suffix}", "\n".join(lines))
    params = sum(p.numel() for p in module.parameters())
    ex.add("parameters", f"{params:,} in all")

    ex.add("output", f"{'(B, T, D*U)' if batch_first else '(T, B, D*U)'} = {_shape(out)}" + (
        f": [..., :{u}] is the forward direction, [..., {u}:] the backward one" if d == 2 else
        ": the last layer's h at every step"))
    ex.add("h_n", f"(L*D, B, U) = {_shape(h_n)}, whatever batch_first is; row k = layer*D + "
                  "direction:\n" + "\n".join(
                      f"h_n[{k}] = layer {k // d}" + (
                          f", {'backward' if k % d else 'forward'}" if d == 2 else "")
                      for k in range(num_layers * d)))
    if c_n is not None:
        ex.add("c_n", f"(L*D, B, hidden_size) = {_shape(c_n)}, rows as h_n")

    # The identities between output and h_n, checked on the numbers.
    last, first = (out[:, -1], out[:, 0]) if batch_first else (out[-1], out[0])
    at_last, at_first = ("output[:, -1, ", "output[:, 0, ") if batch_first else (
        "output[-1, :, ", "output[0, :, ")
    _check(torch.allclose(last[:, :u], h_n[-d]), "last step forward == h_n[-D]")
    identities = [f"{at_last}:{u}] == h_n[{-d}]  (forward direction at the last step)"]
    if d == 2:
        _check(torch.allclose(first[:, u:], h_n[-1]), "step 0 backward == h_n[-1]")
        _check(not torch.allclose(last[:, u:], h_n[-1]), "last step backward != h_n[-1]")
        identities.append(f"{at_first}{u}:] == h_n[-1]  (the backward direction ends at step 0)")
        identities.append(f"{at_last}:] is not the final state of both directions: its "
                          "backward half has seen one step")
    ex.add("identities", "\n".join(identities))

    twin = cls(input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional,
               batch_first=not batch_first, **extra).eval()
    twin.load_state_dict(module.state_dict())
    with torch.no_grad():
        twin_state = twin(x.transpose(0, 1))[1]
    twin_h = twin_state[0] if kind == "lstm" else twin_state
    _check(torch.allclose(twin_h, h_n, atol=1e-6), "batch_first does not change h_n")
    ex.add("batch_first", f"with batch_first={not batch_first} the input and output swap their "
                          f"first two dims; h_n is still {_shape(twin_h)} (checked)")
    _check(torch.allclose(reference.run_recurrent(module, x)[0], out, atol=1e-6),
           "reference loop equals torch")
    ex.add("reference", "timedist.reference.run_recurrent(module, x) computes the same, step by "
                        "step (checked)")
    ex.data = {"kind": kind, "seq_len": seq_len, "batch": batch, "input_size": input_size,
               "hidden_size": hidden_size, "units": u, "num_layers": num_layers,
               "directions": d, "batch_first": batch_first, "input": list(x.shape),
               "output": list(out.shape), "h_n": list(h_n.shape),
               "c_n": None if c_n is None else list(c_n.shape), "parameters": params}
    return ex


def explain_conv2d(
    *, in_channels: int = 2, out_channels: int = 3, kernel_size: int = 2, height: int = 3,
    width: int = 3, seed: int = 0,
) -> Explanation:
    """Multi-input, multi-output channel convolution, and the 1x1 convolution as a matmul."""
    torch.manual_seed(seed)
    conv = nn.Conv2d(in_channels, out_channels, kernel_size)
    x = torch.randn(1, in_channels, height, width)
    with torch.no_grad():
        y = conv(x)
    k, c_i, c_o = kernel_size, in_channels, out_channels
    bias: Tensor = conv.bias  # type: ignore[assignment]
    ex = Explanation(f"torch.nn.Conv2d({c_i}, {c_o}, {k}) on one {c_i}x{height}x{width} input")
    ex.add("input", f"(N, C_i, H, W) = {_shape(x)}")
    ex.add("kernel", f"weight (C_o, C_i, k_h, k_w) = {_shape(conv.weight)}: one {k}x{k} kernel "
                     f"per (output, input) channel pair; bias (C_o,) = {_shape(bias)}")
    for j in range(c_o):
        channel = sum(reference.corr2d(x[0, i], conv.weight[j, i]) for i in range(c_i))
        _check(torch.allclose(channel + bias[j], y[0, j], atol=1e-5), f"channel {j}")
    ex.add("per output", f"Y[j] = sum over i < {c_i} of corr2d(X[i], K[j, i]) + b[j], "
                         f"for each of the {c_o} output channels (checked)")
    ex.add("output", f"(N, C_o, H-k_h+1, W-k_w+1) = {_shape(y)}")
    params = sum(p.numel() for p in conv.parameters())
    ex.add("parameters", f"C_o*C_i*k_h*k_w + C_o = {c_o}*{c_i}*{k}*{k} + {c_o} = {params}")
    one = nn.Conv2d(c_i, c_o, 1, bias=False)
    with torch.no_grad():
        as_matmul = (one.weight.view(c_o, c_i) @ x[0].reshape(c_i, height * width))
        _check(torch.allclose(as_matmul.view(c_o, height, width), one(x)[0], atol=1e-5),
               "1x1 conv == matmul")
    ex.add("1x1 conv", f"weight (C_o, C_i, 1, 1) = {_shape(one.weight)} acts as a matrix:\n"
                       f"(C_o, C_i) @ (C_i, H*W) = ({c_o}, {c_i}) @ ({c_i}, {height * width}) "
                       f"-> ({c_o}, {height * width}) -> ({c_o}, {height}, {width}) (checked)")
    ex.data = {"kind": "conv2d", "input": list(x.shape), "weight": list(conv.weight.shape),
               "output": list(y.shape), "parameters": params}
    return ex


def explain_time_distributed(
    module: str = "conv2d", *, batch: int = 2, steps: int = 5, features: int = 8,
    units: int = 10, channels: int = 3, filters: int = 16, kernel_size: int = 3, size: int = 32,
    seed: int = 0,
) -> Explanation:
    """The fold (B, T, ...) -> (B*T, ...) -> module -> unfold, for a Linear or a Conv2d."""
    torch.manual_seed(seed)
    inner: nn.Module
    if module == "linear":
        inner, x = nn.Linear(features, units), torch.randn(batch, steps, features)
        pattern = "(B, T, F)"
    elif module == "conv2d":
        inner = nn.Conv2d(channels, filters, kernel_size)
        x, pattern = torch.randn(batch, steps, channels, size, size), "(B, T, C, H, W)"
    else:
        raise ValueError(f"explain: expected module 'linear' or 'conv2d'; got {module!r}")
    layer = TimeDistributed(inner)
    seen: list[Tensor] = []
    hook = inner.register_forward_pre_hook(lambda m, a: seen.append(a[0]))
    with torch.no_grad():
        y = layer(x)
        hook.remove()
        loop = torch.stack([inner(x[:, t]) for t in range(steps)], 1)
    ex = Explanation(f"TimeDistributed({type(inner).__name__}) on {pattern} = {_shape(x)}")
    _check(seen[0].data_ptr() == x.data_ptr(), "fold is a view")
    ex.add("fold", f"{_shape(x)} -> {_shape(seen[0])}: B*T = {batch * steps} items, a view "
                   "(no copy)")
    ex.add("module", f"{type(inner).__name__} runs once on the {batch * steps} items")
    ex.add("unfold", f"-> {_shape(y)}")
    _check(torch.allclose(y, loop, atol=1e-5), "equals the per-step loop")
    ex.add("per step", "equals torch.stack([module(x[:, t]) for t in range(T)], 1) (checked)")
    params = sum(p.numel() for p in layer.parameters())
    longer = torch.randn(batch, steps * 3, *x.shape[2:])
    with torch.no_grad():
        _check(layer(longer).shape[1] == steps * 3, "runs on any T")
    ex.add("parameters", f"{params:,}, the module's own: the same weights at every step, so "
                         f"T={steps} or T={steps * 3} changes nothing (checked)")
    if module == "linear":
        with torch.no_grad():
            _check(torch.allclose(inner(x), y), "Linear works on (B, T, F) directly")
        ex.add("without it", "nn.Linear alone also works on (B, T, F): it maps the last dim "
                             "and keeps every other (checked equal)")
    else:
        try:
            inner(x)
        except RuntimeError as error:
            message = str(error).split("\n")[0]
        else:  # pragma: no cover - torch accepted 5-D input to Conv2d
            _check(False, "Conv2d rejects 5-D input")
        ex.add("without it", f"nn.Conv2d alone on the 5-D input raises:\n{message}")
    ex.data = {"kind": "time-distributed", "module": module, "input": list(x.shape),
               "folded": list(seen[0].shape), "output": list(y.shape), "parameters": params}
    return ex


def explain(what: str, **options: Any) -> Explanation:
    """``explain("lstm", num_layers=2, bidirectional=True)``, ``explain("conv2d")``,
    ``explain("time-distributed", module="linear")``: dispatch to the walk-throughs above.

    >>> print(explain("gru").data["h_n"])
    [1, 2, 2]
    """
    if what in _GATES:
        return explain_rnn(what, **options)
    if what == "conv2d":
        return explain_conv2d(**options)
    if what == "time-distributed":
        return explain_time_distributed(**options)
    raise ValueError("explain: expected 'rnn', 'lstm', 'gru', 'conv2d' or 'time-distributed'; "
                     f"got {what!r}")
