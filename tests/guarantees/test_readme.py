"""The README's first example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re

from helpers import REPO

README = REPO / "README.md"


def test_readme_example_runs_and_prints_what_it_says() -> None:
    text = README.read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S)
    assert code is not None
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code.group(1), str(README), "exec"), {})
    printed = stdout.getvalue().splitlines()
    promised = [m.strip() for m in re.findall(r"print\(.*\)[ \t]+# (.*)", code.group(1))]
    assert len(printed) == len(promised) == 5
    for line, comment in zip(printed, promised, strict=True):
        pattern = re.escape(comment).replace(re.escape("..."), ".*")  # "..." stands for anything
        assert re.fullmatch(pattern, line), (line, comment)
