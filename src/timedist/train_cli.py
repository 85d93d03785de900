"""``timedist fit | evaluate | predict``: the command-line face of :mod:`timedist.train`.

Flags left out keep the value of ``--config`` or the dataset's defaults (argparse.SUPPRESS), so
only what the user typed overrides them. Known failures print ``timedist <command>: error:
<message>`` and return 1; ``--debug`` re-raises with the traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_training_commands", "run_training_command"]

# Settings that --resume may change (where it runs); everything else is the stored config's.
_PLACEMENT = ("devices", "num_nodes", "strategy", "accelerator")


def _fit_options(fit: argparse.ArgumentParser) -> None:
    from .data import DATASETS
    from .models.rocket import FEATURES
    from .train.config import MODELS, NORMALIZATIONS

    quiet: dict[str, Any] = {"default": argparse.SUPPRESS}
    data = fit.add_argument_group("data")
    data.add_argument("--data", help=f"a built-in dataset ({', '.join(DATASETS)}; default "
                      "moving-digits) or a training file .ts/.npz", **quiet)
    data.add_argument("--test-data", help="a test file for own data (.ts/.npz)", **quiet)
    data.add_argument("--val-split", type=float, help="fraction of the training data held out "
                      "for validation (0: none; default: chosen from the data; a checkpoint is "
                      "chosen on it only with >= 100 samples)", **quiet)
    data.add_argument("--normalize", choices=NORMALIZATIONS, help="signals: per-channel "
                      "statistics of the training data (default), each series on its own, or "
                      "none", **quiet)
    data.add_argument("--subset", type=int, help="use N random training (and test) samples: "
                      "a quick trial (default 0: all)", **quiet)
    data.add_argument("--shuffle-frames", action="store_true", help="shuffle each sample's "
                      "steps in time (an ablation: what does the order add?)", **quiet)
    model = fit.add_argument_group("model")
    model.add_argument("--model", help=f"one of {', '.join(MODELS)} (default: chosen from "
                       "the data; rocket for signals)", **quiet)
    model.add_argument("--features", choices=FEATURES, help="rocket: the feature families "
                       "(default minirocket+hydra)", **quiet)
    model.add_argument("--num-features", type=int, help="rocket: features per member "
                       "(default 10000)", **quiet)
    model.add_argument("--members", type=int, help="rocket: ensemble size (default: 3, fewer "
                       "for large data)", **quiet)
    model.add_argument("--hidden-size", type=int, help="recurrent units", **quiet)
    model.add_argument("--num-layers", type=int, help="stacked recurrent layers", **quiet)
    model.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, **quiet)
    model.add_argument("--cell", help="lstm or gru", **quiet)
    model.add_argument("--dropout", type=float, **quiet)
    model.add_argument("--subsequences", type=int, help="cnn-lstm on signals: steps a window "
                       "is split into", **quiet)
    model.add_argument("--relative", action=argparse.BooleanOptionalAction, help="regression: "
                       "predict the change from the last value of feature 0 (forecasting)",
                       **quiet)
    train = fit.add_argument_group("training")
    train.add_argument("--epochs", type=int, help="networks: passes over the training data "
                       "(default: from --steps)", **quiet)
    train.add_argument("--steps", type=int, help="networks: optimizer steps when --epochs is "
                       "not given (default 1500)", **quiet)
    train.add_argument("--batch-size", type=int, help="global batch size (split across "
                       "devices)", **quiet)
    train.add_argument("--lr", type=float, help="peak learning rate (one-cycle)", **quiet)
    train.add_argument("--weight-decay", type=float, **quiet)
    train.add_argument("--patience", type=int, help="early stopping after N epochs without "
                       "improvement (0: off)", **quiet)
    train.add_argument("--seed", type=int, **quiet)
    place = fit.add_argument_group("where it runs (Lightning)")
    place.add_argument("--devices", type=int, help="processes/GPUs per node (default 1)",
                       **quiet)
    place.add_argument("--num-nodes", type=int, **quiet)
    place.add_argument("--strategy", help="auto, ddp, ddp_spawn, ... (default auto)", **quiet)
    place.add_argument("--accelerator", help="auto (a GPU when there is one; default), "
                       "cpu or gpu", **quiet)
    run = fit.add_argument_group("run")
    run.add_argument("--config", metavar="FILE", help="YAML/JSON settings; flags override "
                     "them")
    run.add_argument("--out", metavar="RUN_DIR", help="run directory (default runs/<data>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing RUN_DIR")
    run.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run")
    run.add_argument("--quiet", action="store_true", help="no per-epoch lines or progress bar")
    _add_debug(fit)


def _add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error")


def add_training_commands(commands: Any) -> None:
    """Add ``fit``, ``evaluate`` and ``predict`` to the ``timedist`` subparsers."""
    fit = commands.add_parser(
        "fit", help="train a model (default: CNN-LSTM on moving-digits) into a run directory")
    _fit_options(fit)
    evaluate = commands.add_parser(
        "evaluate", help="test a run's best checkpoint (its test split or a labelled file)")
    evaluate.add_argument("run_dir", metavar="RUN_DIR")
    evaluate.add_argument("--data", help="a labelled .ts/.npz file (default: the run's test "
                          "split)")
    predict = commands.add_parser(
        "predict", help="predict a file with a run's best checkpoint")
    predict.add_argument("run_dir", metavar="RUN_DIR")
    predict.add_argument("--input", required=True, help=".ts/.npz samples (labels not needed)")
    predict.add_argument("--output", required=True,
                         help=".csv (labels, values) or .npz (frames)")
    _add_debug(evaluate)
    _add_debug(predict)


def _fit(args: argparse.Namespace) -> int:
    from .train import fit, resolve_config
    from .train.config import ConfigError, RunConfig, load_config_file

    run_options = ("config", "out", "overwrite", "resume", "quiet", "command", "debug")
    flags = {k: v for k, v in vars(args).items() if k not in run_options}
    if args.resume:
        changed = sorted(set(flags) - set(_PLACEMENT)) + (["config"] if args.config else [])
        if changed or args.out:
            extra = ", ".join("--" + c.replace("_", "-") for c in changed) or "--out"
            raise ConfigError(f"--resume continues the stored config; drop {extra}")
        stored = RunConfig.load(Path(args.resume) / "config.yaml").to_dict()
        config = resolve_config(stored, flags)
    else:
        layers = [load_config_file(args.config)] if args.config else []
        config = resolve_config(*layers, flags)
    fit(config, out=args.out, overwrite=args.overwrite, resume=args.resume,
        verbose=not args.quiet, progress=False if args.quiet else None)
    return 0


def run_training_command(args: argparse.Namespace) -> int:
    """Run ``fit``/``evaluate``/``predict``; a known failure -> one line on stderr, 1."""
    try:
        from .train import TrainingError
    except ImportError as error:  # the train extra is missing
        print(f"timedist {args.command}: error: needs the training extra: "
              f"pip install 'timedist[train]' ({error})", file=sys.stderr)
        return 1
    try:
        if args.command == "fit":
            return _fit(args)
        from .train import evaluate, predict

        if args.command == "evaluate":
            evaluate(args.run_dir, data=args.data)
        else:
            predict(args.run_dir, args.input, args.output)
        return 0
    except (ValueError, TypeError, OSError, TrainingError) as error:
        from .cli import debugging

        if debugging(args):
            raise
        print(f"timedist {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as error:
        print(f"timedist {args.command}: {error or 'interrupted'}", file=sys.stderr)
        return 130
