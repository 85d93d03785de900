"""Every layer and model under torch.compile(fullgraph=True), torch.export with dynamic B and T,
and ONNX (dynamo) run in onnxruntime — against eager, at other batch sizes and lengths, with
NaN in the padding (the valid steps' results must ignore it)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import pytest
import torch
from torch import Tensor, nn

import timedist
from timedist import models
from timedist.deploy.export import _Call as Call  # model(x) or model(x, lengths=lengths)

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

Make = Callable[[int, int], Tensor]


def signals(features: int) -> Make:
    return lambda b, t: torch.randn(b, t, features)


def frames(c: int, h: int, w: int) -> Make:
    return lambda b, t: torch.randn(b, t, c, h, w)


def _rocket() -> nn.Module:
    gen = torch.Generator().manual_seed(0)
    model = models.RocketModel(3, 30, 4, num_features=200, members=1)
    return model.fit(torch.randn(20, 30, 3, generator=gen), torch.arange(20) % 4)


# name: (model factory, input maker, takes lengths)
CASES: dict[str, tuple[Callable[[], nn.Module], Make, bool]] = {
    "TimeDistributed(Linear) chunked": (
        lambda: timedist.TimeDistributed(nn.Linear(6, 5), chunk_size=4), signals(6), True),
    "TimeDistributed(Conv2d) loop": (
        lambda: timedist.TimeDistributed(nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU()),
                                         mode="loop"), frames(2, 8, 8), True),
    "LSTM 2 layers, bidirectional": (
        lambda: timedist.LSTM(6, 5, num_layers=2, bidirectional=True), signals(6), True),
    "GRU last step": (lambda: timedist.GRU(6, 5, return_sequences=False), signals(6), True),
    "RNN relu, states": (lambda: timedist.RNN(6, 5, nonlinearity="relu", return_state=True),
                         signals(6), True),
    "LSTM proj, states, go_backwards": (
        lambda: timedist.LSTM(6, 5, proj_size=3, return_state=True, go_backwards=True),
        signals(6), True),
    "LSTM time-major": (lambda: timedist.LSTM(6, 5, batch_first=False), None, True),
    "Bidirectional(LSTM), states": (
        lambda: timedist.Bidirectional(timedist.LSTM(6, 5, return_state=True)), signals(6), True),
    "ConvLSTM1d valid": (lambda: timedist.ConvLSTM1d(2, 3, 3, padding="valid"),
                         lambda b, t: torch.randn(b, t, 2, 7), True),
    "ConvLSTM2d, states": (lambda: timedist.ConvLSTM2d(2, 3, 3, return_state=True),
                           frames(2, 6, 6), True),
    "ConvLSTM3d strided": (lambda: timedist.ConvLSTM3d(1, 2, 3, stride=2),
                           lambda b, t: torch.randn(b, t, 1, 4, 4, 4), True),
    "CNNLSTM": (lambda: models.CNNLSTM(models.frame_encoder(1, 16, 4), 16, 3, hidden_size=8),
                frames(1, 16, 16), True),
    "SequenceClassifier": (lambda: models.SequenceClassifier(6, 3, bidirectional=True,
                                                             cell="gru"), signals(6), True),
    "SequenceRegressor relative": (lambda: models.SequenceRegressor(6, 2, relative=True),
                                   signals(6), True),
    "ConvLSTMForecaster": (lambda: models.ConvLSTMForecaster(1, hidden=4, horizon=3),
                           frames(1, 8, 8), False),
    "FCN": (lambda: models.FCN(3, 4, width=8), signals(3), True),
    "ResNet": (lambda: models.ResNet(3, 4, width=4), signals(3), True),
    "InceptionTime": (lambda: models.InceptionTime(3, 4, filters=4, depth=3, bottleneck=4),
                      signals(3), True),
    "RocketModel": (_rocket, signals(3), True),
}


def _inputs(make: Make | None, batch: int, steps: int, lengths: bool, time_major: bool
            ) -> tuple[Tensor, ...]:
    """(x[, lengths]) with NaN in every padded step (the longest sample fills T)."""
    x = (make or signals(6))(batch, steps)
    if not lengths:
        return (x.transpose(0, 1).contiguous() if time_major else x,)
    valid = torch.randint(1, steps + 1, (batch,))
    valid[0] = steps
    x = torch.where(timedist.lengths_to_mask(valid, steps).view(batch, steps, *[1] * (x.dim() - 2)),
                    x, torch.nan)
    return (x.transpose(0, 1).contiguous() if time_major else x), valid


def _leaves(out: Any) -> list[Tensor]:
    return [t for t in torch.utils._pytree.tree_leaves(out) if isinstance(t, Tensor)]


def _close(got: Any, want: Any) -> None:
    got, want = _leaves(got), _leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        assert torch.isfinite(w).all()
        torch.testing.assert_close(g, w, atol=1e-5, rtol=1e-5)


def _dynamic(args: tuple[Tensor, ...], time_major: bool) -> dict[str, Any]:
    batch, steps = torch.export.Dim("batch", min=1), torch.export.Dim("time", min=3)
    x = {1: batch, 0: steps} if time_major else {0: batch, 1: steps}
    return {"x": x, "lengths": {0: batch}} if len(args) > 1 else {"x": x}


_PROGRAMS: dict[tuple[str, int], torch.export.ExportedProgram] = {}


def _exported(name: str, model: nn.Module, example: tuple[Tensor, ...], time_major: bool
              ) -> torch.export.ExportedProgram:
    """torch.export's program of a case, made once for its export and ONNX tests (the
    export dominates their time); the model is the same seeded one both times."""
    key = (name, len(example))
    if key not in _PROGRAMS:
        _PROGRAMS[key] = torch.export.export(model, example,
                                             dynamic_shapes=_dynamic(example, time_major))
    return _PROGRAMS[key]


def test_onnx_export_of_the_module_itself(tmp_path: Any) -> None:
    """The standard call on a module (not a program), as a user writes it."""
    torch.manual_seed(0)
    model = Call(models.SequenceClassifier(3, 2, bidirectional=True)).eval()
    example = _inputs(signals(3), 3, 7, True, False)
    program = torch.onnx.export(model, example, dynamo=True, verbose=False,
                                dynamic_shapes=_dynamic(example, False))
    program.save(str(tmp_path / "m.onnx"))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    x, lengths = _inputs(signals(3), 6, 12, True, False)
    (got,) = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
    _close(torch.from_numpy(got), model(x, lengths))


@pytest.mark.parametrize("how", ["compile", "export", "onnx"])
@pytest.mark.parametrize("lengths", [False, True], ids=["no lengths", "lengths"])
@pytest.mark.parametrize("name", list(CASES))
def test_traced_equals_eager(name: str, lengths: bool, how: str, tmp_path: Any) -> None:
    factory, make, takes_lengths = CASES[name]
    if lengths and not takes_lengths:
        pytest.skip("the model takes no lengths")
    torch.manual_seed(0)
    model = Call(factory()).eval()
    time_major = name.endswith("time-major")
    example = _inputs(make, 3, 7, lengths, time_major)
    others = [_inputs(make, 5, 11, lengths, time_major), _inputs(make, 1, 4, lengths, time_major)]
    torch._dynamo.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if how == "compile":
            compiled = torch.compile(model, fullgraph=True, backend="aot_eager")
            run: Callable[..., Any] = compiled
        elif how == "export":
            run = _exported(name, model, example, time_major).module()
        else:  # ONNX from the exported program (what torch.onnx.export(model, ...) traces)
            program = torch.onnx.export(_exported(name, model, example, time_major), example,
                                        dynamo=True, verbose=False)
            path = tmp_path / "model.onnx"
            program.save(str(path))
            session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            names = [i.name for i in session.get_inputs()]

            def run(*args: Tensor) -> list[Tensor]:
                outs = session.run(None, {n: a.numpy() for n, a in zip(names, args, strict=True)})
                return [torch.from_numpy(o) for o in outs]
        with torch.no_grad():
            for args in [example, *others]:
                _close(run(*args), model(*args))


def test_compiling_needs_no_flag_and_import_stays_light() -> None:
    """Dynamo refuses subclasses of torch's RNNs unless allow_rnn is set: timedist sets it
    when Dynamo loads, without importing Dynamo itself (a second of start-up)."""
    import subprocess
    import sys

    code = ("import sys, timedist; assert 'torch._dynamo' not in sys.modules; "
            "import torch._dynamo; print(torch._dynamo.config.allow_rnn)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "True"


def test_inductor_compiles_lengths_and_gradients() -> None:
    """The default backend (inductor) in training: outputs and gradients equal eager's."""
    torch.manual_seed(0)
    model = models.SequenceClassifier(4, 3, bidirectional=True)
    x, lengths = _inputs(signals(4), 4, 9, True, False)
    x = torch.nan_to_num(x).requires_grad_()
    torch._dynamo.reset()
    compiled = torch.compile(model, fullgraph=True)
    want = model(x, lengths)
    want.square().sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    x_grad = x.grad.clone()
    model.zero_grad()
    x.grad = None
    got = compiled(x, lengths)
    got.square().sum().backward()
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(x.grad, x_grad, atol=1e-5, rtol=1e-5)
    for p, g in zip(model.parameters(), grads, strict=True):
        torch.testing.assert_close(p.grad, g, atol=1e-5, rtol=1e-5)


def test_export_after_torch_traced_its_own_lstm() -> None:
    """torch keeps a dispatch cache for aten.lstm that can freeze T in a later export; timedist's
    traced path never reaches aten.lstm, so an export after one is still dynamic."""
    torch.manual_seed(0)
    plain = nn.LSTM(3, 4, batch_first=True)
    torch.export.export(plain, (torch.randn(2, 5, 3),))  # traces aten.lstm at T=5
    model = Call(timedist.LSTM(3, 4)).eval()
    example = (torch.randn(2, 5, 3), torch.tensor([5, 2]))
    program = torch.export.export(model, example, dynamic_shapes=_dynamic(example, False))
    x, lengths = torch.randn(3, 12, 3), torch.tensor([12, 1, 7])
    _close(program.module()(x, lengths), model(x, lengths))


def test_stateful_is_refused_when_traced() -> None:
    layer = timedist.GRU(3, 4, stateful=True)
    with pytest.raises(Exception, match="stateful=False when compiled or exported"):
        torch.export.export(Call(layer), (torch.randn(2, 5, 3),))


@pytest.mark.parametrize("missing", [("onnxscript",), ("onnx", "onnxruntime")])
def test_onnx_without_the_export_extra_names_it_and_writes_nothing(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, missing: tuple[str, ...]) -> None:
    """A missing ONNX package is one error naming the extra and what is missing, before
    anything is traced or written; .pt2 needs none of them."""
    import importlib.util

    from timedist.deploy.export import ExportError

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in missing else find_spec(name, *a))
    layer, x = timedist.GRU(3, 4), torch.randn(2, 5, 3)
    with pytest.raises(ExportError, match=r"gru\.onnx: ONNX export needs the export extra: pip "
                                          r"install 'timedist\[export\]' \(missing: "
                                          + ", ".join(missing)):
        timedist.export(layer, x, tmp_path / "gru.onnx")
    assert not list(tmp_path.iterdir())
    timedist.export(layer, x, tmp_path / "gru.pt2")
    assert [p.name for p in tmp_path.iterdir()] == ["gru.pt2"]
