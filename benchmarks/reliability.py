"""Replay the bad-input table of tests/guarantees/test_bad_inputs.py and write what a user sees
for each case into docs/reliability.md (paths shown relative to the case's folder).

Run: ``python benchmarks/reliability.py [--write docs/reliability.md]``. The tests assert
every row (status, message, no traceback, the folder unchanged); this page shows them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "guarantees")]  # helpers; the table

import test_bad_inputs as table  # noqa: E402

MARK_START, MARK_END = "<!-- bad-inputs:start -->", "<!-- bad-inputs:end -->"


def replay() -> list[str]:
    rows = ["| # | case | exit | what the user reads (stderr) | folder unchanged |",
            "|---:|---|---:|---|---|"]
    with tempfile.TemporaryDirectory() as scratch:
        (Path(scratch) / "templates").mkdir()
        templates = table.make_templates(Path(scratch) / "templates")
        for number, (name, setup, status, _) in enumerate(table.CASES, start=1):
            (Path(scratch) / f"case{number}").mkdir()
            work = table.make_work(templates, Path(scratch) / f"case{number}")
            args = [a.replace("{w}", str(work)) for a in setup(work)]
            before = table.snapshot(work)
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                got = table.run_cli(args)
            line = next((x for x in err.getvalue().splitlines() if "error:" in x), "")
            line = line.replace(str(work) + "/", "").replace(str(work), ".").replace("|", "\\|")
            same = "yes" if table.snapshot(work) == before else "**NO**"
            rows.append(f"| {number} | {name} | {got} | `{line}` | {same} |")
            if got != status:
                rows[-1] += " (expected exit {status})"
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="the markdown page to update between "
                        f"{MARK_START} and {MARK_END}")
    args = parser.parse_args()
    text = "\n".join(replay())
    print(text)
    if args.write:
        page = args.write.read_text()
        before, rest = page.split(MARK_START, 1)
        after = rest.split(MARK_END, 1)[1]
        args.write.write_text(f"{before}{MARK_START}\n{text}\n{MARK_END}{after}")


if __name__ == "__main__":
    main()
