"""Property (hypothesis): whatever the user keeps beside a run or puts inside it — files named
like timedist's, folders, links to files elsewhere, a marker of their own — ``fit
--overwrite``, ``predict``, ``evaluate`` and ``export`` never change it. The only file a
command may change is the output the user named with ``--overwrite``. Each command gets 12
generated trees plus the known-dangerous ones (``@example``); the test fails if the ownership
check (``RunDir.foreign``) is switched off."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from helpers import snapshot
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from timedist.cli import main

GOOD = "@classLabel true a b\n@data\n" + "\n".join(
    ",".join(f"{(i * 3 + t * (1 + i % 2)) % 7 / 3:.3f}" for t in range(20)) + f":{'ab'[i % 2]}"
    for i in range(12)) + "\n"
FAST = ["--members", "1", "--num-features", "168", "--quiet"]

NAMES = ["config.yaml", "preprocessing.json", "metrics.csv", "metrics.json",
         "confusion_matrix.png", "learning_curves.png", "model.onnx", "model.pt2",
         ".timedist-run.json", ".timedist.lock", "notes.txt", "p.csv", "data.ts", "run",
         "evaluation.json", "best.ckpt", "last.ckpt"]
PLACES = ["", "run/", "run/checkpoints/", "run/evaluation/"]
COMMANDS = {
    "fit --overwrite": ["fit", "--data", "{w}/good.ts", "--out", "{w}/run", "--overwrite",
                        *FAST],
    "fit a new run": ["fit", "--data", "{w}/good.ts", "--out", "{w}/p.csv", *FAST],
    "predict": ["predict", "{w}/run", "--input", "{w}/good.ts", "--output", "{w}/p.csv"],
    "predict --overwrite": ["predict", "{w}/run", "--input", "{w}/good.ts", "--output",
                            "{w}/p.csv", "--overwrite"],
    "evaluate": ["evaluate", "{w}/run"],
    "export onto a name taken": ["export", "{w}/run", "--out", "{w}/notes.onnx"],
}

entries = st.lists(st.tuples(
    st.sampled_from(PLACES), st.sampled_from(NAMES),
    st.sampled_from(["file", "folder", "link to a file outside", "link to good.ts"]),
    st.binary(min_size=0, max_size=64)), min_size=1, max_size=6)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template")
    (root / "good.ts").write_text(GOOD)
    assert main(["fit", "--data", str(root / "good.ts"), "--out", str(root / "run"),
                 *FAST]) == 0
    (root / "notes.onnx").write_text("the user's")
    return root


def plant(work: Path, outside: Path, tree: list[tuple[str, str, str, bytes]]) -> set[str]:
    """Put the user's entries in ``work``; returns their paths (relative to ``work``)."""
    planted = set()
    for place, name, kind, content in tree:
        path = work / place / name
        if not path.parent.is_dir() or path.parent.is_symlink():
            continue
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path)
        if kind == "file":
            path.write_bytes(content)
        elif kind == "folder":
            path.mkdir()
            (path / "inside.txt").write_bytes(content)
        elif kind == "link to a file outside":
            target = outside / f"target{len(planted)}"
            target.write_bytes(content)
            path.symlink_to(target)
        else:
            path.symlink_to(work / "good.ts")
        planted.add(str(path.relative_to(work)))
    return planted


def users(snapshot_: dict[str, str], planted: set[str]) -> dict[str, str]:
    """The part of a folder snapshot that is the user's: what was planted (and below it),
    and the data file."""
    return {k: v for k, v in snapshot_.items() if k == "good.ts" or any(
        k == p or k.startswith(p + "/") for p in planted)}


@pytest.mark.parametrize("command", sorted(COMMANDS))
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(tree=entries)
@example(tree=[("run/", "config.yaml", "file", b"the user's own config")])
@example(tree=[("run/", "metrics.csv", "link to a file outside", b"thesis")])
@example(tree=[("run/evaluation/", "confusion_matrix.png", "link to a file outside", b"x")])
@example(tree=[("run/", ".timedist.lock", "link to a file outside", b"thesis")])
@example(tree=[("run/checkpoints/", "best.ckpt", "file", b"another model")])
@example(tree=[("", "run", "folder", b"a project folder named run")])
@example(tree=[("", "p.csv", "link to good.ts", b"")])
def test_the_users_files_are_never_touched(template: Path, tmp_path_factory:
                                           pytest.TempPathFactory,
                                           tree: list[tuple[str, str, str, bytes]],
                                           command: str) -> None:
    work = tmp_path_factory.mktemp("work")
    outside = tmp_path_factory.mktemp("outside")
    shutil.copytree(template, work, dirs_exist_ok=True, symlinks=True)
    planted = plant(work, outside, tree)
    before, outside_before = users(snapshot(work), planted), snapshot(outside)
    args = [a.replace("{w}", str(work)) for a in COMMANDS[command]]
    with contextlib.suppress(SystemExit):  # argparse's usage errors
        main(args)
    after = users(snapshot(work), planted)
    if command == "predict --overwrite":  # the one file the user asked to replace
        before.pop("p.csv", None)
        after.pop("p.csv", None)
    assert after == before, (command, tree)
    assert snapshot(outside) == outside_before, (command, tree)
