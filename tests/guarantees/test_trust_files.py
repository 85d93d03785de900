"""A run's files are timedist's by proof, down to the inode (issue 20): a name inside a run that
is a hard link to a user's file is never written through, an output that appears while a
command runs is kept, a run another live process is still writing is not taken, and a process
that cannot print or has lost its folder still says one line.

Each test checks the user's bytes against a copy taken before, or the exit status and the
line of a separate Python process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from timedist._atomic import atomic_write, atomic_write_text
from timedist.cli import main
from timedist.data import Clip, clip_keys

FAST = ["--members", "1", "--num-features", "168", "--quiet"]
MARKER, LOCK = ".timedist-run.json", ".timedist.lock"


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished rocket run on 16 two-class series (``run``; its data is ``train.npz``)."""
    root = tmp_path_factory.mktemp("finished")
    rng = np.random.default_rng(0)
    y = np.array(["a", "b"] * 8)
    x = rng.normal(size=(16, 20, 1)) + np.where(y == "b", 2.0, 0.0)[:, None, None]
    np.savez(root / "train.npz", X=x, y=y)
    assert main(["fit", "--data", str(root / "train.npz"), "--out", str(root / "run"),
                 *FAST]) == 0
    return root / "run"


@pytest.fixture
def run(finished: Path, tmp_path: Path) -> Path:
    """A fresh copy of the finished run (its data path still names the original file)."""
    subprocess.run(["cp", "-a", str(finished), str(tmp_path / "run")], check=True)
    return tmp_path / "run"


def test_a_lock_hard_linked_to_a_users_file_is_never_written(
        run: Path, tmp_path: Path) -> None:
    """An empty lock looks like timedist's: the holder's line goes only into a lock whose bytes
    are no other file's."""
    users = tmp_path / "empty-but-mine.txt"
    users.write_bytes(b"")
    (run / LOCK).unlink(missing_ok=True)
    os.link(users, run / LOCK)
    assert main(["evaluate", str(run)]) == 0
    assert users.read_bytes() == b""


def test_a_marker_temporary_hard_linked_to_a_users_file_is_never_written(
        run: Path, tmp_path: Path) -> None:
    users = tmp_path / "backup-of-marker.json"
    users.write_bytes((run / MARKER).read_bytes())  # looks like a marker: timedist may reuse
    before = users.read_bytes()                     # the name, never the bytes
    os.link(users, run / f"{MARKER}.tmp")
    assert main(["evaluate", str(run)]) == 0
    assert users.read_bytes() == before
    assert json.loads((run / MARKER).read_text())["files"]["evaluation/evaluation.json"]


@pytest.mark.parametrize("write", ["bytes", "text"])
def test_an_output_that_appears_meanwhile_is_kept(tmp_path: Path, write: str) -> None:
    """Without --overwrite the last step of a write cannot replace a file: another process's
    file, made after the command checked the name, keeps its bytes."""
    target = tmp_path / "predictions.csv"

    def racing(handle: object) -> None:
        target.write_text("another process's file\n")  # made between check and rename
        handle.write(b"index,prediction\n")  # type: ignore[attr-defined]

    with pytest.raises(FileExistsError, match="appeared while this command ran"):
        if write == "bytes":
            atomic_write(target, racing, replace=False)
        else:
            target.write_text("another process's file\n")
            atomic_write_text(target, "index,prediction\n", replace=False)
    assert target.read_text() == "another process's file\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.csv"]  # no temp left
    atomic_write_text(target, "index,prediction\n", replace=True)  # --overwrite: replaced
    assert target.read_text() == "index,prediction\n"


@pytest.fixture
def other_process() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    yield process
    process.send_signal(signal.SIGKILL)
    process.wait()


def _started(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def _claim(run: Path, pid: int, start: str) -> None:
    """The run's marker as a process ``pid`` that is still training would leave it."""
    marker = json.loads((run / MARKER).read_text())
    marker.update(state="training", writer={"pid": pid, "start": start,
                                            "host": socket.gethostname()})
    (run / MARKER).write_text(json.dumps(marker))


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
@pytest.mark.parametrize("writer", ["alive", "ended", "pid reused"])
def test_a_run_another_live_process_writes_is_not_taken(
        run: Path, writer: str, other_process: subprocess.Popen[bytes],
        capsys: pytest.CaptureFixture[str]) -> None:
    """Its lock removed (a "stale lock" cleanup), the marker still names the writer: while
    that process lives, no second writer takes the run; once it ended (or its pid went to
    another process) the run is free (and, unfinished, is refused for that)."""
    pid, start = other_process.pid, _started(other_process.pid)
    if writer == "ended":
        other_process.send_signal(signal.SIGKILL)
        other_process.wait()
    _claim(run, pid, str(int(start) + 1) if writer == "pid reused" else start)
    (run / LOCK).unlink(missing_ok=True)
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err
    still = f"process {pid} on this machine is still writing this run"
    assert (still in err) == (writer == "alive"), err
    assert len(err.strip().splitlines()) == 1


def _frames(folder: Path, middle: int) -> Path:
    from PIL import Image

    folder.mkdir(parents=True)
    for i in range(5):
        pixels = np.full((8, 8, 3), 40 * i, dtype=np.uint8)
        if i == 2:
            pixels[4, 4, 0] = middle
        Image.fromarray(pixels).save(folder / f"{i}.png")
    return folder


def test_a_clip_key_covers_every_byte(tmp_path: Path) -> None:
    """Two frame folders that differ in one pixel of a middle frame are different clips; the
    same frames under another name are the same clip."""
    a, b = _frames(tmp_path / "a", 7), _frames(tmp_path / "b", 8)
    same = _frames(tmp_path / "renamed", 7)
    keys = clip_keys([Clip(a, ""), Clip(b, ""), Clip(same, "")])
    assert keys[0] != keys[1] and keys[0] == keys[2]
    video = tmp_path / "v.bin"
    video.write_bytes(bytes(range(256)) * 4096)  # 1 MiB: a byte in the middle flips
    first = clip_keys([Clip(video, "")])[0]
    # two windows of one video (a manifest's start,end) are two samples; the same window is one
    windows = clip_keys([Clip(video, "", 0.0, 2.0), Clip(video, "", 2.0, 4.0),
                         Clip(video, "x", 0.0, 2.0)])
    assert len({first, *windows[:2]}) == 3 and windows[0] == windows[2]
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 1
    video.write_bytes(bytes(data))
    assert clip_keys([Clip(video, "")])[0] != first


SCRIPT = "import sys; from timedist.cli import main; sys.exit(main(sys.argv[1:]))"


def _cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=cwd, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.mark.skipif(sys.platform == "win32", reason="a deleted working folder is POSIX")
def test_a_deleted_working_folder_is_one_line(tmp_path: Path) -> None:
    gone = tmp_path / "gone"
    gone.mkdir()
    code = ("import os, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); " + SCRIPT
            .replace("sys.argv[1:]", "['evaluate', 'run']"))
    result = subprocess.run([sys.executable, "-c", code, str(gone)], text=True,
                            capture_output=True, timeout=120)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "the current folder no longer exists" in result.stderr


def test_a_terminal_that_cannot_print_a_label_still_gets_the_line(tmp_path: Path) -> None:
    """A file name outside the terminal's encoding is written escaped, not as a
    UnicodeEncodeError."""
    result = _cli("evaluate", str(tmp_path / "r\u00e9sum\u00e9-\u732b"),
                  env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "r\\xe9sum\\xe9-\\u732b" in result.stderr
