"""Faults: a fit killed (SIGKILL) at seeded random moments — between steps or in the middle of
writing a checkpoint — never leaves an unreadable checkpoint, and resuming ends with the
weights of a run that was never interrupted; a full disk during a checkpoint write keeps the
previous checkpoint loadable and leaves no temporary file."""

from __future__ import annotations

import errno
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from timedist.cli import main
from timedist.runs.rundir import RunDir, read_checkpoint
from timedist.train import RunConfig, fit, resolve_config
from timedist.train.callbacks import AtomicCheckpointIO

SETTINGS = {"data": "japanese-vowels", "subset": 48, "epochs": 3, "batch_size": 16,
            "hidden_size": 8, "dropout": 0.3, "val_split": 0.0}
STEPS = 9  # 3 epochs x 3 batches of 16


def killed_run(run_dir: Path, *, at_step: int | None = None, in_save: int | None = None) -> int:
    """Run fit in a child process that SIGKILLs itself after optimizer step ``at_step`` or
    halfway through writing checkpoint number ``in_save``; its exit status."""
    script = f"""
import os, signal
import lightning.pytorch as pl
from timedist.train import fit, resolve_config
from timedist.train import rundir

class Kill(pl.Callback):
    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx):
        if trainer.global_step == {at_step!r}:
            os.kill(os.getpid(), signal.SIGKILL)

saves = [0]
original = rundir.atomic_write  # every file a run writes goes through it
def half_then_die(path, write, **options):
    if not str(path).endswith(".ckpt"):
        return original(path, write, **options)
    saves[0] += 1
    if saves[0] != {in_save!r}:
        return original(path, write, **options)
    def partial(handle):
        handle.write(b"the first bytes of a checkpoint")
        handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    return original(path, partial, **options)
rundir.atomic_write = half_then_die

fit(resolve_config({SETTINGS!r}), out={str(run_dir)!r}, verbose=False, progress=False,
    callbacks=[Kill()])
"""
    return subprocess.run([sys.executable, "-c", script], capture_output=True,
                          timeout=300).returncode


@pytest.fixture(scope="module")
def straight(tmp_path_factory: pytest.TempPathFactory) -> dict[str, torch.Tensor]:
    run_dir = tmp_path_factory.mktemp("faults") / "straight"
    fit(resolve_config(SETTINGS), out=run_dir, verbose=False, progress=False)
    return read_checkpoint(RunDir(run_dir).last)["state_dict"]


KILLS = sorted(random.Random(12).sample(range(1, STEPS), 2))  # seeded "random" moments


@pytest.mark.parametrize("kill", [*(("step", s) for s in KILLS), ("save", 3)],
                         ids=lambda k: f"{k[0]}-{k[1]}")
def test_a_killed_fit_resumes_to_the_uninterrupted_weights(
        kill: tuple[str, int], straight: dict[str, torch.Tensor], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    run = RunDir(tmp_path / "killed")
    kind, where = kill
    status = killed_run(run.path, **({"at_step": where} if kind == "step" else
                                     {"in_save": where}))
    assert status == -9
    for checkpoint in sorted(run.checkpoints.glob("*.ckpt")):
        read_checkpoint(checkpoint)  # every checkpoint on disk is whole
    if not run.last.is_file():  # killed before the first checkpoint: nothing to resume
        assert main(["fit", "--resume", str(run.path)]) == 1
        assert "last.ckpt: not found, so there is nothing to resume from" in (
            capsys.readouterr().err)
        return
    fit(RunConfig.load(run.config), resume=run.path, verbose=False, progress=False)
    resumed = read_checkpoint(run.last)["state_dict"]
    assert resumed.keys() == straight.keys()
    for key, value in straight.items():
        torch.testing.assert_close(resumed[key], value, rtol=0, atol=0)


def test_a_full_disk_during_a_checkpoint_write(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The third checkpoint write fails with ENOSPC halfway: the fit stops with that error,
    the checkpoints written before stay loadable, and no temporary file is left."""
    saves = [0]
    original = AtomicCheckpointIO.save_checkpoint

    def full_disk(self: AtomicCheckpointIO, checkpoint: dict[str, Any], path: Any,
                  storage_options: Any = None) -> None:
        saves[0] += 1
        if saves[0] < 3:
            return original(self, checkpoint, path, storage_options)
        def partial(handle: Any) -> None:
            handle.write(b"half")
            raise OSError(errno.ENOSPC, "No space left on device")

        assert self.session is not None
        self.session.write(self._relative(path), partial)

    monkeypatch.setattr(AtomicCheckpointIO, "save_checkpoint", full_disk)
    run = RunDir(tmp_path / "run")
    with pytest.raises(OSError, match="No space left on device"):
        fit(resolve_config(SETTINGS), out=run.path, verbose=False, progress=False)
    assert read_checkpoint(run.last)["epoch"] == 0  # the first epoch's, whole
    assert read_checkpoint(run.best)["epoch"] == 0
    assert sorted(p.name for p in run.checkpoints.iterdir()) == ["best.ckpt", "last.ckpt"]
    assert not run.metrics_json.exists()  # the run does not look complete
    assert json.loads((run.path / ".timedist-run.json").read_text())["state"] == "training"
    assert RunDir(run.path).foreign(RunDir(run.path).read_marker()) == []  # still all ours
