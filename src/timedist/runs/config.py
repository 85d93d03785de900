"""The configuration of a training run: defaults per built-in dataset, a config file, flags.

Resolution order (later wins): :class:`RunConfig` defaults, the dataset's entry in
:data:`DATASET_DEFAULTS`, a YAML/JSON config file, then command-line flags. The resolved config
is written to ``RUN_DIR/config.yaml``; ``evaluate``, ``predict`` and ``--resume`` read it back.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import numbers
import os
import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .._atomic import check_plain
from .._checks import DECIMAL, shorten, shorten_text
from ..data import Task
from ..data.clips import holds_recordings
from ..models.registry import MODELS, closed_form, taking

__all__ = ["ARRAYS", "DATASET_DEFAULTS", "MODELS", "NORMALIZATIONS", "PATHS",
           "ConfigError", "RunConfig", "absolute_paths", "check_applicable", "load_config_file",
           "resolve_config", "setting_type"]


class ConfigError(ValueError):
    """A bad configuration value, name or file; the message lists what is valid."""


# The largest value of an integer setting (others: 2**31 - 1). Each rocket member is a whole
# transform of its own: 100 members cost 30-50x the default's time for no measured gain.
LARGEST = {"members": 100}
# Besides the "model" group: the settings that decide how a run's inputs are prepared.
IDENTITY = ("normalize", "shuffle_frames", "frames", "fps", "size", "grayscale")
NORMALIZATIONS = ("channel", "series", "none")
PATHS = ("data", "test_data", "cache")  # settings that name files or folders
ARRAYS = "(arrays)"  # the data of a run fitted in Python on arrays (the estimators)
MAX_CONFIG_BYTES = 1 << 20  # a config file is a page of settings, never megabytes


GROUPS = {"data": "data", "clips": "own videos (--data FOLDER or manifest.csv)",
          "model": "model", "training": "training",
          "placement": "where it runs (Lightning)"}


def _setting(default: Any, group: str, help: str, only: str | None = None) -> Any:
    """A RunConfig field and its command-line flag: the flag's group and help (the CLI builds
    ``--name-with-dashes`` from the field, its type and this; ``{models}``, ``{features}``
    and ``{datasets}`` in ``help`` list the valid names). ``only``: the runs it applies to
    (a key of :data:`APPLIES`); set for any other run, it is an error
    (:func:`check_applicable`), never silently ignored."""
    return dataclasses.field(default=default, metadata={"group": group, "help": help,
                                                        "only": only})


@dataclass
class RunConfig:
    """Everything that defines a run. ``None`` means "chosen from the data" (the dataset's
    defaults, or :mod:`timedist.runs.defaults` for own files); a finished run's
    ``config.yaml`` holds the values chosen, so it reproduces the run."""

    data: str = _setting("moving-digits", "data", "a built-in dataset ({datasets}; default "
                         "moving-digits), a training file (.ts, .npz, a table: .csv, .tsv, "
                         ".parquet, or the archives' .txt, .arff), or own videos: a folder "
                         "of <label>/<clip> (optionally under train/ val/ test/) or a .csv "
                         "manifest (path,label[,start,end])")
    test_data: str | None = _setting(None, "data", "a test file for own data (.ts, .npz, .csv, "
                                     ".tsv, .parquet, .txt, .arff), or "
                                     "a folder/manifest of test clips")
    label_column: str | None = _setting(
        None, "data", "tables (.csv, .tsv, .parquet with a header): the column of labels or "
        "targets (default: the one named label, class or target, else the first)")
    val_split: float | None = _setting(
        None, "data", "fraction of the training data held out for validation (0: none; "
        "default: chosen from the data; a checkpoint is chosen on it only with >= 100 samples)")
    normalize: str = _setting("channel", "data", "signals: channel (per-channel statistics of "
                              "the training data; default), series (each series on its own) "
                              "or none")
    subset: int = _setting(0, "data", "use N random training (and test) samples: a quick "
                           "trial (default 0: all)")
    shuffle_frames: bool = _setting(False, "data", "shuffle each sample's steps in time (an "
                                    "ablation: what does the order add?)")
    frames: int = _setting(16, "clips", "frames per clip, spread uniformly over it (random "
                           "temporal crops in training; default 16)", only="clips")
    fps: float | None = _setting(None, "clips", "sample frames at this rate (frames per "
                                 "second) instead of spreading --frames over the clip",
                                 only="clips")
    size: int | None = _setting(None, "clips", "frame side in pixels after resizing the "
                                "shorter side and cropping (random crops in training; default: "
                                "the clips' shorter side, at most 64)", only="clips")
    grayscale: bool = _setting(False, "clips", "one channel instead of three", only="clips")
    cache: str | None = _setting(None, "clips", "a folder for decoded clips (uint8 on disk): "
                                 "epochs after the first skip decoding", only="clips")
    skip_bad: bool = _setting(False, "clips", "skip unreadable clips (or recordings) with a "
                              "warning listing them (default: stop at the first, naming it)",
                              only="folders")
    workers: int | None = _setting(None, "clips", "DataLoader processes decoding clips "
                                   "(default: the CPU cores, at most 4)", only="clips")
    model: str | None = _setting(None, "model", "one of {models} (default: chosen from the "
                                 "data; rocket for signals)")
    features: str = _setting("minirocket+hydra", "model", "rocket: the feature families, one "
                             "of {features}", only="rocket")
    num_features: int = _setting(10_000, "model", "rocket: features per member (default "
                                 "10000)", only="rocket")
    members: int | None = _setting(None, "model", "rocket: ensemble size (default: 3, fewer "
                                   "for large data)", only="rocket")
    hidden_size: int = _setting(64, "model", "recurrent units (default 64)", only="recurrent")
    num_layers: int = _setting(1, "model", "stacked recurrent layers (default 1)",
                               only="stacked")
    bidirectional: bool = _setting(False, "model", "bidirectional recurrent layers",
                                   only="stacked")
    cell: str = _setting("lstm", "model", "recurrent cell: lstm or gru (default lstm)",
                         only="stacked")
    dropout: float = _setting(0.0, "model", "dropout between recurrent layers and before the "
                              "head (default 0)", only="stacked")
    subsequences: int = _setting(4, "model", "cnn-lstm on signals: steps a window is split "
                                 "into (default 4)", only="cnn-lstm signals")
    relative: bool = _setting(False, "model", "regression: predict the change from the last "
                              "value of feature 0 (forecasting)", only="sequence regression")
    epochs: int | None = _setting(None, "training", "networks: passes over the training data "
                                  "(default: from --steps)", only="networks")
    steps: int | None = _setting(None, "training", "networks: optimizer steps when --epochs "
                                 "is not given (default 1500)", only="networks")
    converge: bool | None = _setting(None, "training", "networks: stop once training has "
                                     "converged (default: on when the length comes from "
                                     "--steps, off with --epochs)", only="networks")
    batch_size: int = _setting(32, "training", "networks: global batch size, split across "
                               "devices (default 32)", only="networks")
    lr: float = _setting(3e-3, "training", "peak learning rate of the one-cycle schedule "
                         "(default 0.003)", only="networks")
    weight_decay: float = _setting(0.0, "training", "AdamW's weight decay (default 0)",
                                   only="networks")
    patience: int = _setting(0, "training", "early stopping after N epochs without "
                             "improvement (default 0: off)", only="networks")
    seed: int = _setting(0, "training", "seeds the split, order, initialization, dropout and "
                         "rocket's kernels (default 0)")
    devices: int = _setting(1, "placement", "processes/GPUs per node (default 1; networks: "
                            "Lightning's DDP; rocket: each transforms a share, the ridge "
                            "statistics are summed)")
    num_nodes: int = _setting(1, "placement", "machines (default 1)")
    strategy: str = _setting("auto", "placement", "Lightning's strategy for networks: auto, "
                             "ddp, ddp_spawn, ... (default auto; rocket: auto or ddp)")
    accelerator: str = _setting("auto", "placement", "auto (a GPU when there is one; "
                                "default), cpu or gpu")
    ddp_timeout: int = _setting(600, "placement", "seconds DDP waits for every process of "
                                "--devices x --num-nodes to join, and for each collective "
                                "(default 600)")

    def to_dict(self) -> dict[str, Any]:
        """Every setting by name, as ``config.yaml`` holds them."""
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        """The resolved config as YAML (what a run's ``config.yaml`` holds)."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    @classmethod
    def load(cls, path: Path, *, relative_to_file: bool = True) -> RunConfig:
        """The config in ``path``; with ``relative_to_file`` its relative paths are read from
        the file's folder (a run's config.yaml holds absolute ones, unless edited by hand)."""
        return resolve_config(load_config_file(path, relative_to_file=relative_to_file))

    def validate(self) -> RunConfig:
        """Check names and ranges; raises :class:`ConfigError` naming the value and the rule."""
        if not isinstance(self.data, str) or not self.data.strip():
            raise ConfigError(f"expected data: a built-in dataset, a file or a folder; got "
                              f"{shorten(self.data)}")
        if self.model is not None and self.model not in MODELS:
            raise ConfigError(f"unknown model {shorten(self.model)}; expected one of "
                              f"{', '.join(MODELS)}")
        from ..models.rocket import FEATURES

        choices = {"cell": ("lstm", "gru"), "normalize": NORMALIZATIONS, "features": FEATURES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"expected {name} one of {', '.join(allowed)}; got "
                                  f"{shorten(getattr(self, name))}")
        for name in ("lr", "weight_decay", "dropout", "val_split", "fps"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ConfigError(f"expected a finite {name}; got {value}")
        positive = ("hidden_size", "num_layers", "subsequences", "epochs", "steps",
                    "batch_size", "devices", "num_nodes", "members", "num_features",
                    "frames", "size", "ddp_timeout")
        for name in positive:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"expected {name} >= 1; got {value}")
        for name in ("patience", "subset", "workers"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"expected {name} >= 0 (0: off); got {value}")
        for name in (*positive, "patience", "subset", "workers"):  # beyond: a typo, and
            value = getattr(self, name)  # loops and C integers that never end or overflow
            if value is not None and value > LARGEST.get(name, 2**31 - 1):
                raise ConfigError(f"expected {name} <= {LARGEST.get(name, 2**31 - 1):,}; got "
                                  f"{shorten(value)}")
        if not 0 <= self.seed < 2**32:
            raise ConfigError(f"expected 0 <= seed < 2**32; got {self.seed}")
        if self.weight_decay < 0:
            raise ConfigError(f"expected weight_decay >= 0; got {self.weight_decay}")
        if self.fps is not None and not self.fps > 0:
            raise ConfigError(f"expected fps > 0 (frames per second); got {self.fps}")
        if self.val_split is not None and not 0 <= self.val_split < 1:
            raise ConfigError(f"expected 0 <= val_split < 1; got {self.val_split}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"expected 0 <= dropout < 1; got {self.dropout}")
        if not self.lr > 0:
            raise ConfigError(f"expected lr > 0; got {self.lr}")
        if self.model is not None:
            check_placement(self, self.model)
        return self


def check_placement(config: RunConfig, model: str) -> None:
    """The processes suit ``model``: a network's batch is split across them (it must divide
    evenly); rocket starts them itself (Lightning's strategies do not apply)."""
    world = config.devices * config.num_nodes
    if closed_form(model):
        if config.strategy not in ("auto", "ddp", "ddp_spawn"):
            raise ConfigError(f"--strategy {config.strategy}: rocket starts its own processes; "
                              "expected auto or ddp")
    elif config.batch_size % world:
        raise ConfigError(f"expected batch_size divisible by devices x num_nodes = {world} "
                          f"(it is the global batch); got {config.batch_size}")


# Chosen per dataset so that `timedist fit --data NAME` trains well with nothing else given.
DATASET_DEFAULTS: dict[str, dict[str, Any]] = {
    "japanese-vowels": dict(model="sequence", cell="gru", hidden_size=64, bidirectional=True,
                            epochs=40, batch_size=16, lr=5e-3, val_split=0.0),
    "basic-motions": dict(model="cnn-lstm", hidden_size=32, subsequences=4, epochs=60,
                          batch_size=8, lr=3e-3, val_split=0.0),
    "sunspots": dict(model="sequence", hidden_size=32, epochs=60, batch_size=16, lr=3e-3,
                     val_split=0.1),
    "airline": dict(model="sequence", hidden_size=32, epochs=100, batch_size=8, lr=3e-3,
                    relative=True, val_split=0.1),
    "moving-digits": dict(model="cnn-lstm", hidden_size=128, epochs=12, batch_size=64,
                          lr=3e-3, val_split=0.1),
    "moving-digits-forecast": dict(model="conv-lstm-forecaster", hidden_size=32, epochs=10,
                                   batch_size=16, lr=3e-3, val_split=0.1),
}


@functools.cache
def setting_type(name: str) -> tuple[type, bool]:
    """(the type, whether None is allowed) of the :class:`RunConfig` setting ``name``, from
    its annotation: ``int | None`` -> ``(int, True)``. Config files and command-line flags
    are both typed by it."""
    hint = typing.get_type_hints(RunConfig)[name]
    args = typing.get_args(hint) or (hint,)
    return next(a for a in args if a is not type(None)), type(None) in args


def _coerce(name: str, value: Any) -> Any:
    """Check one value from a config file against the setting's declared type."""
    kind, optional = setting_type(name)
    if value is None and optional:
        return None
    if kind is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
    elif kind is int:  # numpy's integers too (a parameter grid of np.arange)
        if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            return int(value)
    elif kind is float:
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)):
            return float(value)
        if isinstance(value, str) and DECIMAL.fullmatch(value.strip()):  # YAML's 1e-3: text
            return float(value)
    elif isinstance(value, str):
        return value
    wanted = kind.__name__ + (" or null (chosen from the data)" if optional else "")
    raise ConfigError(f"expected {name} of type {wanted}; got {shorten(value)}")


class _PlainLoader(yaml.SafeLoader):
    """YAML without aliases: a config is a flat page of settings, and aliases are how a
    small file expands into gigabytes ("billion laughs"). A key given twice is an error (YAML
    keeps the last one without a word)."""

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {shorten(key, 60)} is given twice", key_node.start_mark)
            if isinstance(key, (str, int, float, bool)):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "found an alias (*name); config files take plain values only",
                event.start_mark)
        return super().compose_node(parent, index)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are each given once (json keeps the last without a word)."""
    keys = [k for k, _ in pairs]
    twice = next((k for k in keys if keys.count(k) > 1), None)
    if twice is not None:
        raise ValueError(f"the key {shorten(twice, 60)} is given twice")
    return dict(pairs)


def load_config_file(path: str | Path, *, relative_to_file: bool = True) -> dict[str, Any]:
    """Read a YAML (.yaml/.yml) or JSON (.json) mapping of :class:`RunConfig` fields (at most
    1 MiB, no YAML aliases). With ``relative_to_file``, relative paths in ``data``,
    ``test_data`` and ``cache`` are read from the file's folder (where the file says they
    are), not from the current one; built-in dataset names stay names."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{path}: expected a .yaml, .yml or .json config file")
    check_plain(path)
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        size = 0  # (read_text below names what is wrong)
    if size > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: expected a config file of at most 1 MiB; got {size:,} "
                          "bytes")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            content = json.loads(text, object_pairs_hook=_unique)
        else:
            content = yaml.load(text, Loader=_PlainLoader)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; expected a config file") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: expected UTF-8 text ({error.reason})") from None
    except (ValueError, yaml.YAMLError) as error:  # JSON's errors, and ints beyond 4300 digits
        first = " ".join(str(error).split())
        raise ConfigError(f"{path}: not valid {path.suffix[1:].upper()}: "
                          f"{first[:300]}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply to be a config file") from None
    if not content and isinstance(content, (dict, type(None))):  # a file saved empty
        raise ConfigError(f"{path}: holds no settings (it is empty, or only comments); "
                          "expected a mapping of settings such as 'data: FILE'")
    if not isinstance(content, dict):
        raise ConfigError(f"{path}: expected a mapping of settings; got "
                          f"{type(content).__name__}")
    if relative_to_file:
        content = {k: (_from(path.parent, v) if k in PATHS else v) for k, v in content.items()}
    return content


def _from(folder: Path, value: Any) -> Any:
    """A path setting read from a file in ``folder``: relative -> absolute from there (a
    built-in dataset's name, or the estimators' ``(arrays)``, is not a path)."""
    from ..data import DATASETS

    if not isinstance(value, str) or not value or value in DATASETS or value == ARRAYS or (
            Path(value).is_absolute()):
        return value
    return os.path.normpath(os.path.abspath(folder / value))


def identity(config: RunConfig) -> dict[str, Any]:
    """The settings that make a run what it is (the model and how its inputs are prepared):
    a run's ``config.yaml`` may be edited in its data paths, training and placement settings,
    never in these (the run's record keeps them to compare)."""
    return {f.name: getattr(config, f.name) for f in fields(RunConfig)
            if f.metadata["group"] == "model" or f.name in IDENTITY}


# The runs a setting applies to (its ``only``): what to call them, and whether a run is one
# (config with the model chosen, clips or not, the data's task).
APPLIES: dict[str, tuple[str, Callable[[RunConfig, bool, Task], bool]]] = {
    "clips": ("own videos (a folder or manifest of clips)", lambda c, clips, t: clips),
    "folders": ("folders or manifests of clips or recordings",
                lambda c, clips, t: clips or holds_recordings(c.data)),
    "rocket": ("the rocket model", lambda c, clips, t: c.model in taking("rocket")),
    "networks": ("networks (not rocket)", lambda c, clips, t: not closed_form(c.model)),
    "recurrent": (f"the recurrent models ({', '.join(taking('recurrent'))})",
                  lambda c, clips, t: c.model in taking("recurrent")),
    "stacked": (f"the models with recurrent layers ({', '.join(taking('stacked'))})",
                lambda c, clips, t: c.model in taking("stacked")),
    "sequence regression": ("the sequence model on regression targets",
                            lambda c, clips, t: c.model == "sequence" and t is Task.REGRESSION),
    "cnn-lstm signals": ("the cnn-lstm model on signals",
                         lambda c, clips, t: c.model == "cnn-lstm" and not clips),
}


def check_applicable(config: RunConfig, *, clips: bool, task: Task, images: bool = False
                     ) -> None:
    """Refuse a setting given for a run it does not apply to (``--fps`` for signals,
    ``--epochs`` for rocket, ``--members`` for a network, ``--relative`` for classification):
    set to anything but its default (the dataset's), it would be ignored without a word.
    ``config.model`` is chosen; ``task`` is the data's (classification, regression, frames);
    ``images``: the steps are images (C, H, W), as clips' are."""
    base = resolve_config({"data": config.data})
    for setting in fields(RunConfig):
        only = setting.metadata["only"]
        value = getattr(config, setting.name)
        if only is None or value == getattr(base, setting.name):
            continue
        what, applies = APPLIES[only]
        if applies(config, clips, task):
            continue
        given = (f"{setting.name}={shorten(value)}" if config.data == ARRAYS else  # Python
                 f"--{setting.name.replace('_', '-')} {shorten(value)}")
        raise ConfigError(f"{given}: applies to "
                          f"{what}; this run is {task} of "
                          f"{'clips' if clips else 'image sequences' if images else 'signals'}"
                          f" with {config.model}: drop it")


def absolute_paths(config: RunConfig) -> RunConfig:
    """``config`` with its relative paths made absolute from the current folder (what the
    user meant when typing them), so a run reads the same files from wherever it is used.
    Built-in dataset names stay names."""
    changes = {k: _from(Path.cwd(), getattr(config, k)) for k in PATHS}
    return dataclasses.replace(config, **changes)


def resolve_config(*layers: dict[str, Any], origins: Sequence[str | None] = ()
                   ) -> RunConfig:
    """Merge ``layers`` (each a partial mapping; later wins) over the dataset's defaults.
    ``origins``: where each layer came from (a config file's path, or None): an error in a
    value a file gave names the file."""
    kinds = [f.name for f in fields(RunConfig)]
    named = [*origins, *[None] * len(layers)][: len(layers)]
    merged: dict[str, Any] = {}
    given: dict[str, str | None] = {}  # setting -> the origin of the value that counts
    for layer, origin in zip(layers, named, strict=True):
        where = f"{origin}: " if origin else ""
        unknown = sorted(str(k) for k in set(layer) - set(kinds))
        if unknown:
            raise ConfigError(f"{where}unknown setting "
                              f"{shorten_text(', '.join(map(repr, unknown)))}; expected some of "
                              f"{', '.join(kinds)}")
        try:
            merged = _over(merged, {k: _coerce(k, v) for k, v in layer.items()})
        except ConfigError as error:
            raise ConfigError(f"{where}{error}") from None
        given = {**{k: v for k, v in given.items() if k in merged}, **dict.fromkeys(layer, origin)}
    data = merged.get("data", RunConfig.data)
    defaults = DATASET_DEFAULTS.get(data, {})
    try:
        return RunConfig(**_over(defaults, merged)).validate()
    except ConfigError as error:
        for key, origin in given.items():  # the file whose value alone breaks the rule
            if origin and _fails_alone(key, merged[key], defaults) == str(error):
                raise ConfigError(f"{origin}: {error}") from None
        raise


# Settings that say one thing two ways (how long to train): a layer that gives one replaces
# the other's value from the layers below it (--steps a config file's or the dataset's epochs)
ALTERNATIVES = {"epochs": "steps", "steps": "epochs"}


def _over(below: dict[str, Any], layer: dict[str, Any]) -> dict[str, Any]:
    """``layer``'s settings over ``below``'s, where one given in ``layer`` (not None) also
    removes its alternative from ``below`` unless ``layer`` gives that too."""
    replaced = {ALTERNATIVES[k] for k, v in layer.items()
                if k in ALTERNATIVES and v is not None and ALTERNATIVES[k] not in layer}
    return {**{k: v for k, v in below.items() if k not in replaced}, **layer}


def _fails_alone(key: str, value: Any, defaults: dict[str, Any]) -> str | None:
    """The message :meth:`RunConfig.validate` gives for ``key: value`` over the defaults
    alone, or None when that is valid."""
    try:
        RunConfig(**{**defaults, key: value}).validate()
    except ConfigError as error:
        return str(error)
    return None
