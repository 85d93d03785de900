"""The package's structure: no module imports, directly or through others, a module that
imports it back — counting imports inside functions and under TYPE_CHECKING (a package's
``__init__`` importing its own modules is not a cycle: that is how a package is built)."""

from __future__ import annotations

import ast
from pathlib import Path

import timedist

ROOT = Path(timedist.__file__).parent


def _modules() -> dict[str, Path]:
    """{dotted name: file} of every module of the package."""
    found = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            targets.update(f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module
                           for a in node.names)
    found = set()
    for target in targets:
        while target not in modules and "." in target:
            target = target.rsplit(".", 1)[0]
        if target in modules and target != name and target.startswith("timedist"):
            found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycles() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, modules) for name, path in modules.items()}
    assert "timedist.runs.record" in graph["timedist.estimators"]  # the analysis sees imports
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


# The layers, bottom to top (docs/architecture.md): a module imports its own layer and those
# below, never one above — except the imports listed in UPWARD, each made inside a function
# for a reason (an optional extra, imported only when it is used).
LAYERS = [
    ("checks and files", ["timedist._checks", "timedist._atomic", "timedist._version",
                          "timedist._tree", "timedist._wrapper", "timedist._moved"]),
    ("layers", ["timedist.masking", "timedist.folding", "timedist.time_distributed",
                "timedist.recurrent", "timedist.reference"]),
    ("data", ["timedist.data"]),
    ("models", ["timedist.models"]),
    ("runs", ["timedist.runs"]),
    ("training networks, deployment", ["timedist.train", "timedist.deploy"]),
    ("front ends", ["timedist.estimators", "timedist._estimator_api", "timedist.inspect",
                    "timedist._showcase", "timedist.cli", "timedist.__main__"]),
]
UPWARD = {
    ("timedist.runs.fitting", "timedist.train.network"): "Lightning, when a network trains",
    ("timedist.runs.measure", "timedist.train.plots"): "matplotlib, when a plot is drawn",
    ("timedist.runs.predict", "timedist.deploy.deployed"): "onnxruntime, predict --model X.onnx",
}


def _layer(module: str) -> int:
    """The index in LAYERS of ``module`` (the package itself is the top)."""
    if module == "timedist":
        return len(LAYERS)
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer of LAYERS: place it")


def test_nothing_imports_upward() -> None:
    modules = _modules()
    upward = {(name, target) for name, path in modules.items()
              for target in _imports(name, path, modules) if _layer(target) > _layer(name)}
    assert upward == set(UPWARD)
    for name, target in UPWARD:  # and only from inside a function
        tree = ast.parse(modules[name].read_text(encoding="utf-8"))
        top = {alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
               for alias in node.names} | {node.module or "" for node in tree.body
                                           if isinstance(node, ast.ImportFrom)}
        assert not any(target.endswith(t) for t in top if t), (name, target)


def test_old_module_paths_import_the_moved_modules() -> None:
    """Code and pickles of earlier versions name modules by their old paths (``_moved``)."""
    import importlib
    import pickle

    from timedist._moved import MOVED

    for old, new in MOVED.items():
        assert importlib.import_module(old) is importlib.import_module(new), old
    from timedist.runs.config import RunConfig

    assert pickle.loads(b"ctimedist.train.config\nRunConfig\n.") is RunConfig
    config = pickle.loads(pickle.dumps(RunConfig(data="x.ts"), protocol=0).replace(
        b"timedist.runs.config", b"timedist.train.config"))
    assert config == RunConfig(data="x.ts")
