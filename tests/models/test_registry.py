"""The model registry (timedist.models.registry): every entry builds for what it says it
serves and is refused, in one line naming what fits, for anything else; a new entry is all
`timedist fit`, `evaluate` and the estimators need to use a new model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from timedist.cli import main
from timedist.data import Task
from timedist.models import SequenceClassifier
from timedist.models.registry import (
    MODELS,
    Fitting,
    ModelEntry,
    ModelError,
    ModelSpec,
    build,
    closed_form,
    taking,
)
from timedist.runs.config import RunConfig

STEPS = {1: (3,), 3: (1, 16, 16)}  # one step of signals, of images


def _spec(task: Task, rank: int) -> ModelSpec:
    return ModelSpec(task, STEPS[rank], 2 if task is not Task.FRAMES else 1,
                     horizon=2 if task is Task.FRAMES else 0, length=8)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_entry_builds_what_it_serves(name: str) -> None:
    entry = MODELS[name]
    assert entry.name == name and entry.about and entry.tasks and entry.steps
    for task in entry.tasks:
        for rank in entry.steps:
            spec = _spec(task, rank)
            model = build(name, spec, RunConfig(subsequences=4))
            x = torch.randn(2, 8, *spec.step_shape)
            if entry.fitting is Fitting.CLOSED_FORM:  # fitted before it predicts
                assert callable(getattr(model, "fit", None)), name
                continue
            out = model(x)
            want = (2, spec.horizon, *spec.step_shape) if task is Task.FRAMES else (2, 2)
            assert tuple(out.shape) == want, (name, task, rank)


@pytest.mark.parametrize("name", list(MODELS))
def test_every_entry_refuses_what_it_does_not_serve(name: str) -> None:
    entry = MODELS[name]
    for task in set(Task) - entry.tasks:
        with pytest.raises(ModelError, match=rf"model '{name}' does not fit task '{task}': "
                                             rf"{name} serves .*; {task} targets need one of"):
            build(name, _spec(task, min(entry.steps)), RunConfig())
    for rank in set(STEPS) - entry.steps:
        task = min(entry.tasks)
        with pytest.raises(ModelError, match=rf"model '{name}' expects .*; got .*"
                                             rf"{re.escape(str(STEPS[rank]))}"):
            build(name, _spec(task, rank), RunConfig())


def test_queries_follow_the_entries() -> None:
    assert [n for n in MODELS if closed_form(n)] == ["rocket"] == taking("rocket")
    assert not closed_form("nonexistent") and not closed_form(None)
    assert set(taking("stacked")) <= set(taking("recurrent"))
    with pytest.raises(ModelError, match=r"expected a model, one of rocket, .*; got 'nope'"):
        build("nope", _spec(Task.CLASSIFICATION, 1), RunConfig())


def _tiny_gru(spec: ModelSpec, settings: object) -> nn.Module:
    return SequenceClassifier(spec.step_shape[0], spec.num_outputs, cell="gru",
                              hidden_size=settings.hidden_size)  # type: ignore[attr-defined]


def test_a_new_entry_is_all_a_new_model_needs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """docs/architecture.md, "Adding a model": one entry, and the command line (its help, the
    settings that apply, fit, evaluate) and the estimators take the new name."""
    monkeypatch.setitem(MODELS, "tiny-gru", ModelEntry(
        "tiny-gru", "a one-layer GRU (a test's)", _tiny_gru, frozenset({Task.CLASSIFICATION}),
        frozenset({1}), takes=frozenset({"recurrent"})))
    run = tmp_path / "run"
    quick = ["--data", "japanese-vowels", "--subset", "40", "--epochs", "1", "--quiet"]
    assert main(["fit", *quick, "--model", "tiny-gru", "--hidden-size", "5",
                 "--out", str(run)]) == 0
    assert "model: tiny-gru" in (run / "config.yaml").read_text()
    assert main(["evaluate", str(run)]) == 0
    assert "test_accuracy" in capsys.readouterr().out
    assert main(["fit", *quick, "--model", "tiny-gru", "--members", "2",
                 "--out", str(tmp_path / "other")]) == 1
    assert "--members 2: applies to the rocket model" in capsys.readouterr().err
    from timedist.estimators import TimeSeriesClassifier

    x = np.random.default_rng(0).normal(size=(12, 8, 3)).astype(np.float32)
    y = np.arange(12) % 2
    fitted = TimeSeriesClassifier("tiny-gru", epochs=1, hidden_size=3).fit(x, y)
    assert isinstance(fitted.model_, SequenceClassifier) and fitted.predict(x).shape == (12,)
