"""Streaming (step) against whole sequences; `timedist export` and `timedist predict --model`
against `timedist predict` on small trained runs; timedist.deploy.export's checks and errors."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import FIXTURES
from torch import Tensor, nn

import timedist
from timedist import models
from timedist.cli import main
from timedist.deploy.export import ExportError, export, export_step

ort = pytest.importorskip("onnxruntime")

DATA = FIXTURES

STEPPERS = {
    "RNN 3 layers": (lambda: timedist.RNN(3, 4, num_layers=3), (3,)),
    "LSTM proj": (lambda: timedist.LSTM(3, 5, proj_size=2), (3,)),
    "GRU time-major": (lambda: timedist.GRU(3, 4, batch_first=False), (3,)),
    "ConvLSTM2d": (lambda: timedist.ConvLSTM2d(2, 3, 3), (2, 6, 6)),
    "ConvLSTM1d strided": (lambda: timedist.ConvLSTM1d(2, 3, 3, stride=2), (2, 9)),
    "SequenceClassifier": (lambda: models.SequenceClassifier(3, 4, num_layers=2), (3,)),
    "SequenceRegressor relative": (lambda: models.SequenceRegressor(3, 2, relative=True,
                                                                    cell="gru"), (3,)),
    "CNNLSTM": (lambda: models.CNNLSTM(models.frame_encoder(1, 8, 4), 8, 3, hidden_size=5),
                (1, 16, 16)),
    "ConvLSTMForecaster": (lambda: models.ConvLSTMForecaster(1, hidden=3, horizon=2),
                           (1, 8, 8)),
}


@pytest.mark.parametrize("name", list(STEPPERS))
def test_step_by_step_equals_the_whole_sequence(name: str) -> None:
    """Fed one step at a time, a layer or model gives at step t what forward gives for the
    first t steps (<= 1e-6)."""
    factory, step_shape = STEPPERS[name]
    torch.manual_seed(0)
    model = factory().eval()
    x = torch.randn(2, 6, *step_shape)
    time_major = name.endswith("time-major")
    state = None
    with torch.no_grad():
        for t in range(x.shape[1]):
            y, state = model.step(x[:, t], state)
            prefix = x[:, : t + 1]
            whole = model(prefix.transpose(0, 1) if time_major else prefix)
            if isinstance(model, timedist.RNN | timedist.LSTM | timedist.GRU | timedist.ConvLSTM2d
                          | timedist.ConvLSTM1d):  # return_sequences: step t of the output
                whole = whole[-1] if time_major else whole[:, -1]
            torch.testing.assert_close(y, whole, atol=1e-6, rtol=1e-6)


def test_step_refuses_what_looks_ahead() -> None:
    with pytest.raises(ValueError, match="unidirectional layer for step"):
        timedist.LSTM(3, 4, bidirectional=True).step(torch.randn(2, 3))
    with pytest.raises(ValueError, match="go_backwards=False for step"):
        timedist.GRU(3, 4, go_backwards=True).step(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"one step x_t \(B, F\) with F=3; got shape \(2, 5, 3\)"):
        timedist.GRU(3, 4).step(torch.randn(2, 5, 3))
    with pytest.raises(ValueError, match=r"h0 \(1, 2, 4\)"):
        timedist.GRU(3, 4).step(torch.randn(2, 3), torch.zeros(1, 3, 4))


def test_export_refuses_a_graph_that_differs_from_eager(tmp_path: Path) -> None:
    """The check is the safety net: a module that computes otherwise when exported is refused
    and nothing is written."""

    class Drifts(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            return x * 2 + (1e-3 if torch.compiler.is_exporting() else 0.0)

    with pytest.raises(ExportError, match=r"differs from eager by 0\.001"):
        export(Drifts(), torch.randn(2, 5, 3), tmp_path / "m.onnx")
    assert not list(tmp_path.iterdir())


def test_export_arguments(tmp_path: Path) -> None:
    layer = timedist.GRU(3, 4)
    with pytest.raises(ExportError, match=r"m.onnnx: expected a file ending in .onnx or .pt2"):
        export(layer, torch.randn(2, 5, 3), tmp_path / "m.onnnx")
    (tmp_path / "m.onnx").write_text("mine")
    with pytest.raises(FileExistsError, match="exists; pass overwrite=True"):
        export(layer, torch.randn(2, 5, 3), tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_text() == "mine"
    with pytest.raises(ExportError, match="expected a model with step"):
        export_step(models.FCN(3, 2), torch.randn(2, 3), tmp_path / "s.onnx")


def test_exported_onnx_runs_without_timedist(tmp_path: Path) -> None:
    """A layer exported with lengths: onnxruntime alone equals eager at a new B and T with
    garbage in the padding, and the step graph streams like step()."""
    torch.manual_seed(0)
    layer = timedist.LSTM(3, 4, num_layers=2, return_sequences=False).eval()
    report = timedist.export(layer, (torch.randn(2, 7, 3), torch.tensor([7, 3])),
                             tmp_path / "lstm.onnx")
    assert report.inputs == ["x", "lengths"] and len(report.checks) == 2
    session = ort.InferenceSession(str(tmp_path / "lstm.onnx"))
    x, lengths = torch.randn(6, 13, 3), torch.tensor([13, 1, 5, 9, 2, 13])
    x[1, 1:] = 1e6
    (got,) = session.run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
    np.testing.assert_allclose(got, layer(x, lengths=lengths).detach().numpy(), atol=1e-5)

    report = export_step(layer, torch.randn(2, 3), tmp_path / "step.onnx")
    assert report.inputs[0] == "x" and len(report.inputs) == 3  # x, h, c
    step = ort.InferenceSession(str(tmp_path / "step.onnx"))
    state = [np.zeros((2, 6, 4), np.float32)] * 2
    for t in range(13):
        y, *state = step.run(None, {"x": x[:, t].numpy(), **dict(zip(report.inputs[1:], state,
                                                                        strict=True))})
    np.testing.assert_allclose(y, layer(x).detach().numpy(), atol=1e-5)


# -- trained runs ------------------------------------------------------------------------------


def _rows(path: Path) -> list[list[str]]:
    with path.open() as handle:
        return list(csv.reader(handle))


@pytest.fixture(scope="module")
def signals(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("signals")
    path = folder / "ItalyPowerDemand_TRAIN.ts"
    path.write_bytes(gzip.decompress((DATA / "ItalyPowerDemand_TRAIN.ts.gz").read_bytes()))
    return path


@pytest.mark.parametrize("model", ["rocket", "sequence"])
def test_export_then_predict_in_onnxruntime_equals_predict(model: str, signals: Path,
                                                           tmp_path: Path) -> None:
    run = tmp_path / "run"
    flags = ["--members", "1", "--num-features", "600"] if model == "rocket" else [
        "--epochs", "2", "--hidden-size", "8", "--normalize", "series"]
    assert main(["fit", "--data", str(signals), "--model", model, "--out", str(run),
                 "--quiet", *flags]) == 0
    assert main(["export", str(run)]) == 0
    assert main(["predict", str(run), "--input", str(signals), "--output",
                 str(tmp_path / "torch.csv")]) == 0
    assert main(["predict", str(run), "--input", str(signals), "--output",
                 str(tmp_path / "onnx.csv"), "--model", str(run / "model.onnx")]) == 0
    torch_rows, onnx_rows = _rows(tmp_path / "torch.csv"), _rows(tmp_path / "onnx.csv")
    assert len(torch_rows) == 68  # header + 67 series
    assert [r[:2] for r in onnx_rows] == [r[:2] for r in torch_rows]
    for a, b in zip(onnx_rows[1:], torch_rows[1:], strict=True):
        assert abs(float(a[2]) - float(b[2])) <= 1e-4
    assert main(["fit", "--data", str(signals), "--model", model, "--out", str(run),
                 "--overwrite", "--quiet", *flags]) == 0  # the export is timedist's to replace


def test_streaming_export_of_a_run(signals: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The step graph of a trained run, fed raw steps with state, ends with the probabilities
    the whole-sequence graph gives."""
    run = tmp_path / "run"
    assert main(["fit", "--data", str(signals), "--model", "sequence", "--epochs", "1",
                 "--hidden-size", "8", "--out", str(run), "--quiet"]) == 0
    assert main(["export", str(run), "--streaming"]) == 0
    assert main(["export", str(run)]) == 0
    assert "wrote" in capsys.readouterr().out
    whole = ort.InferenceSession(str(run / "model.onnx"))
    step = ort.InferenceSession(str(run / "model-step.onnx"))
    names = [i.name for i in step.get_inputs()]
    assert whole.get_inputs()[0].type == step.get_inputs()[0].type == "tensor(double)"
    x = np.random.default_rng(0).normal(size=(3, 24, 1)) * 2  # raw signals come as float64
    state = {n: np.zeros([3 if d in ("batch", None) or not isinstance(d, int) else d
                          for d in i.shape], np.float32)
             for n, i in zip(names[1:], step.get_inputs()[1:], strict=True)}
    for t in range(x.shape[1]):
        y, *new = step.run(None, {"x": x[:, t], **state})
        state = dict(zip(names[1:], new, strict=True))
    (want,) = whole.run(None, {"x": x, "lengths": np.full(3, 24, np.int64)})
    np.testing.assert_allclose(y, want, atol=1e-5)
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-5)


def test_export_and_predict_errors(signals: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    assert main(["fit", "--data", str(signals), "--model", "rocket", "--members", "1",
                 "--num-features", "300", "--out", str(run), "--quiet"]) == 0
    assert main(["export", str(run), "--streaming"]) == 1
    assert "expected a recurrent model for streaming; got RocketModel" in capsys.readouterr().err
    assert main(["export", str(run), "--out", str(tmp_path / "m.onnx"), "--format", "pt2"]) == 1
    assert "expected a file ending in .pt2" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing")]) == 1
    assert "not a timedist run directory" in capsys.readouterr().err
    other = tmp_path / "other.onnx"
    export(timedist.GRU(1, 2), torch.randn(2, 5, 1), other)
    assert main(["predict", str(run), "--input", str(signals), "--output",
                 str(tmp_path / "p.csv"), "--model", str(other)]) == 1
    assert "exported from another run" in capsys.readouterr().err
    assert not (tmp_path / "p.csv").exists()


def test_export_of_windows_split_into_subsequences(tmp_path: Path) -> None:
    """CNNLSTM(subsequences=n) takes (B, L, C) windows: L stays dynamic in multiples of n, and
    its pooling (GridMaxPool1d, AdaptiveMaxPool1d's bins) exports for any sub-sequence length."""
    torch.manual_seed(0)
    model = models.CNNLSTM(models.subsequence_encoder(2, 8, 4), 8, 3, hidden_size=8,
                           subsequences=4).eval()
    report = export(model, torch.randn(2, 40, 2), tmp_path / "har.onnx")
    assert [shape for shape, _ in report.checks] == [(4, 52, 2), (1, 32, 2)]
    session = ort.InferenceSession(str(tmp_path / "har.onnx"))
    x = torch.randn(3, 44, 2)  # sub-sequences of 11: bins overlap, as torch's do
    (got,) = session.run(None, {"x": x.numpy()})
    np.testing.assert_allclose(got, model(x).detach().numpy(), atol=1e-5)
    pooled = torch.randn(2, 3, 11)
    torch.testing.assert_close(models.cnn_lstm.GridMaxPool1d(4)(pooled),
                               nn.AdaptiveMaxPool1d(4)(pooled))
