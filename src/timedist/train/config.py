"""The configuration of a training run: defaults per built-in dataset, a config file, flags.

Resolution order (later wins): :class:`RunConfig` defaults, the dataset's entry in
:data:`DATASET_DEFAULTS`, a YAML/JSON config file, then command-line flags. The resolved config
is written to ``RUN_DIR/config.yaml``; ``evaluate``, ``predict`` and ``--resume`` read it back.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from .._atomic import atomic_write_text

__all__ = ["CLOSED_FORM", "DATASET_DEFAULTS", "MODELS", "NORMALIZATIONS", "ConfigError",
           "RunConfig", "load_config_file",
           "resolve_config"]


class ConfigError(ValueError):
    """A bad configuration value, name or file; the message lists what is valid."""


MODELS: dict[str, str] = {
    "rocket": "random convolution features (MiniRocket, Hydra) + ridge heads, an ensemble "
              "fitted in closed form (signals: the default for own data)",
    "inception": "InceptionTime network (multi-scale convolutions, residual, global pooling)",
    "resnet": "ResNet for time series (three residual conv blocks, global pooling)",
    "fcn": "fully convolutional network (conv 8-5-3, global pooling)",
    "cnn-lstm": "TimeDistributed CNN encoder + LSTM/GRU (frames, or sub-sequences of a signal)",
    "sequence": "stacked (bi)LSTM/GRU: SequenceClassifier or SequenceRegressor, by task",
    "conv-lstm-forecaster": "ConvLSTM encoder-forecaster: frames in, next frames out",
}
CLOSED_FORM = ("rocket",)  # fitted without optimizer steps (no epochs, no Lightning)
NORMALIZATIONS = ("channel", "series", "none")


GROUPS = {"data": "data", "clips": "own videos (--data FOLDER or manifest.csv)",
          "model": "model", "training": "training",
          "placement": "where it runs (Lightning)"}


def _setting(default: Any, group: str, help: str) -> Any:
    """A RunConfig field and its command-line flag: the flag's group and help (the CLI builds
    ``--name-with-dashes`` from the field, its type and this; ``{models}``, ``{features}``
    and ``{datasets}`` in ``help`` list the valid names)."""
    return dataclasses.field(default=default, metadata={"group": group, "help": help})


@dataclass
class RunConfig:
    """Everything that defines a run. ``None`` means "chosen from the data" (the dataset's
    defaults, or :mod:`timedist.train.defaults` for own files); a finished run's
    ``config.yaml`` holds the values chosen, so it reproduces the run."""

    data: str = _setting("moving-digits", "data", "a built-in dataset ({datasets}; default "
                         "moving-digits), a training file .ts/.npz, or own videos: a folder "
                         "of <label>/<clip> (optionally under train/ val/ test/) or a .csv "
                         "manifest (path,label[,start,end])")
    test_data: str | None = _setting(None, "data", "a test file for own data (.ts/.npz), or "
                                     "a folder/manifest of test clips")
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
                           "temporal crops in training; default 16)")
    fps: float | None = _setting(None, "clips", "sample frames at this rate (frames per "
                                 "second) instead of spreading --frames over the clip")
    size: int | None = _setting(None, "clips", "frame side in pixels after resizing the "
                                "shorter side and cropping (random crops in training; default: "
                                "the clips' shorter side, at most 64)")
    grayscale: bool = _setting(False, "clips", "one channel instead of three")
    cache: str | None = _setting(None, "clips", "a folder for decoded clips (uint8 on disk): "
                                 "epochs after the first skip decoding")
    skip_bad: bool = _setting(False, "clips", "skip unreadable clips with a warning listing "
                              "them (default: stop at the first, naming it)")
    workers: int | None = _setting(None, "clips", "DataLoader processes decoding clips "
                                   "(default: the CPU cores, at most 4)")
    model: str | None = _setting(None, "model", "one of {models} (default: chosen from the "
                                 "data; rocket for signals)")
    features: str = _setting("minirocket+hydra", "model", "rocket: the feature families, one "
                             "of {features}")
    num_features: int = _setting(10_000, "model", "rocket: features per member (default "
                                 "10000)")
    members: int | None = _setting(None, "model", "rocket: ensemble size (default: 3, fewer "
                                   "for large data)")
    hidden_size: int = _setting(64, "model", "recurrent units (default 64)")
    num_layers: int = _setting(1, "model", "stacked recurrent layers (default 1)")
    bidirectional: bool = _setting(False, "model", "bidirectional recurrent layers")
    cell: str = _setting("lstm", "model", "recurrent cell: lstm or gru (default lstm)")
    dropout: float = _setting(0.0, "model", "dropout between recurrent layers and before the "
                              "head (default 0)")
    subsequences: int = _setting(4, "model", "cnn-lstm on signals: steps a window is split "
                                 "into (default 4)")
    relative: bool = _setting(False, "model", "regression: predict the change from the last "
                              "value of feature 0 (forecasting)")
    epochs: int | None = _setting(None, "training", "networks: passes over the training data "
                                  "(default: from --steps)")
    steps: int | None = _setting(None, "training", "networks: optimizer steps when --epochs "
                                 "is not given (default 1500)")
    batch_size: int = _setting(32, "training", "global batch size, split across devices "
                               "(default 32)")
    lr: float = _setting(3e-3, "training", "peak learning rate of the one-cycle schedule "
                         "(default 0.003)")
    weight_decay: float = _setting(0.0, "training", "AdamW's weight decay (default 0)")
    patience: int = _setting(0, "training", "early stopping after N epochs without "
                             "improvement (default 0: off)")
    seed: int = _setting(0, "training", "seeds the split, order, initialization, dropout and "
                         "rocket's kernels (default 0)")
    devices: int = _setting(1, "placement", "processes/GPUs per node (default 1)")
    num_nodes: int = _setting(1, "placement", "machines (default 1)")
    strategy: str = _setting("auto", "placement", "Lightning's strategy: auto, ddp, "
                             "ddp_spawn, ... (default auto)")
    accelerator: str = _setting("auto", "placement", "auto (a GPU when there is one; "
                                "default), cpu or gpu")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def save(self, path: Path) -> None:
        """Write the resolved config as YAML (atomically)."""
        atomic_write_text(path, yaml.safe_dump(self.to_dict(), sort_keys=False))

    @classmethod
    def load(cls, path: Path) -> RunConfig:
        return resolve_config(load_config_file(path))

    def validate(self) -> RunConfig:
        """Check names and ranges; raises :class:`ConfigError` naming the value and the rule."""
        if self.model is not None and self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}; expected one of "
                              f"{', '.join(MODELS)}")
        from ..models.rocket import FEATURES

        choices = {"cell": ("lstm", "gru"), "normalize": NORMALIZATIONS, "features": FEATURES}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"expected {name} one of {', '.join(allowed)}; got "
                                  f"{getattr(self, name)!r}")
        positive = ("hidden_size", "num_layers", "subsequences", "epochs", "steps",
                    "batch_size", "devices", "num_nodes", "members", "num_features",
                    "frames", "size")
        for name in positive:
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"expected {name} >= 1; got {value}")
        for name in ("patience", "subset", "workers"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ConfigError(f"expected {name} >= 0 (0: off); got {value}")
        if self.fps is not None and not self.fps > 0:
            raise ConfigError(f"expected fps > 0 (frames per second); got {self.fps}")
        if self.val_split is not None and not 0 <= self.val_split < 1:
            raise ConfigError(f"expected 0 <= val_split < 1; got {self.val_split}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"expected 0 <= dropout < 1; got {self.dropout}")
        if not self.lr > 0:
            raise ConfigError(f"expected lr > 0; got {self.lr}")
        world = self.devices * self.num_nodes
        if self.batch_size % world:
            raise ConfigError(f"expected batch_size divisible by devices x num_nodes = {world} "
                              f"(it is the global batch); got {self.batch_size}")
        return self


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


def _coerce(name: str, value: Any, kind: str) -> Any:
    """Check one value from a config file against the field's declared type."""
    optional = "None" in kind
    if value is None and optional:
        return None
    if "bool" in kind:
        if isinstance(value, bool):
            return value
    elif "int" in kind:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif "float" in kind:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif isinstance(value, str):
        return value
    kind = kind.replace(" | None", " or null (chosen from the data)")
    raise ConfigError(f"expected {name} of type {kind}; got {value!r}")


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML (.yaml/.yml) or JSON (.json) mapping of :class:`RunConfig` fields."""
    path = Path(path)
    if path.suffix not in (".yaml", ".yml", ".json"):
        raise ConfigError(f"{path.name}: expected a .yaml, .yml or .json config file")
    try:
        text = path.read_text(encoding="utf-8")
        content = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"{path.name}: not valid {path.suffix[1:].upper()}: {error}") from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path.name}: expected a mapping of settings; got "
                          f"{type(content).__name__}")
    return content


def resolve_config(*layers: dict[str, Any]) -> RunConfig:
    """Merge ``layers`` (each a partial mapping; later wins) over the dataset's defaults."""
    kinds = {f.name: str(f.type) for f in fields(RunConfig)}
    merged: dict[str, Any] = {}
    for layer in layers:
        unknown = sorted(set(layer) - set(kinds))
        if unknown:
            raise ConfigError(f"unknown setting {', '.join(map(repr, unknown))}; expected some "
                              f"of {', '.join(kinds)}")
        merged.update({k: _coerce(k, v, kinds[k]) for k, v in layer.items()})
    data = merged.get("data", RunConfig.data)
    values = {**DATASET_DEFAULTS.get(data, {}), **merged}
    return RunConfig(**values).validate()
