"""``timedist fit | evaluate | predict``: the command-line face of :mod:`timedist.train`.

Flags left out keep the value of ``--config`` or the dataset's defaults (argparse.SUPPRESS), so
only what the user typed overrides them. Failures reach ``timedist.cli.main``, the one error
handler, which prints ``timedist <command>: error: <message>`` and returns 1.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

__all__ = ["add_training_commands", "run_training_command"]

# Settings that --resume may change (where it runs, and the clip cache, which only saves
# decoding and is never taken from the stored config: a folder to write into is named by the
# user who runs the command); everything else is the stored config's.
_PLACEMENT = ("devices", "num_nodes", "strategy", "accelerator", "ddp_timeout", "cache")


def _fit_options(fit: argparse.ArgumentParser) -> None:
    """One flag per RunConfig field (name, type, group and help come from the field: a flag
    and its config key cannot drift apart), then the run's own options."""
    from dataclasses import fields

    from .data import DATASETS
    from .models.rocket import FEATURES
    from .train.config import GROUPS, MODELS, PATHS, RunConfig

    names = {"datasets": ", ".join(DATASETS), "models": ", ".join(MODELS),
             "features": ", ".join(FEATURES)}
    groups = {key: fit.add_argument_group(title) for key, title in GROUPS.items()}
    for setting in fields(RunConfig):
        kind = str(setting.type)
        options: dict[str, Any] = {"default": argparse.SUPPRESS,  # only typed flags override
                                   "help": setting.metadata["help"].format(**names)}
        if "bool" in kind:
            options["action"] = argparse.BooleanOptionalAction
        elif setting.name in PATHS:
            options["type"] = _path
        elif "int" in kind or "float" in kind:
            options["type"] = int if "int" in kind else float
            options["metavar"] = "N" if "int" in kind else "X"
        groups[setting.metadata["group"]].add_argument(
            "--" + setting.name.replace("_", "-"), **options)
    run = fit.add_argument_group("run")
    run.add_argument("--config", type=_path, metavar="FILE",
                     help="YAML/JSON settings; flags override them")
    run.add_argument("--out", type=_path, metavar="RUN_DIR",
                     help="run directory (default runs/<data>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing RUN_DIR")
    run.add_argument("--resume", type=_path, metavar="RUN_DIR", help="continue an interrupted run")
    run.add_argument("--quiet", action="store_true",
                     help="print only notes and errors (on stderr): no progress or results")
    _add_debug(fit)


def _path(text: str) -> str:
    """A path argument: an empty one (a variable that was not set) is a usage error."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path; got {text!r}")
    if text.endswith(("/", os.sep)) and os.path.isfile(text.rstrip("/" + os.sep)):
        raise argparse.ArgumentTypeError(f"{text}: is a file, not a folder (a path ending in "
                                         "/ names a folder): drop the /")
    return text


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
    evaluate.add_argument("run_dir", type=_path, metavar="RUN_DIR")
    evaluate.add_argument("--data", "--test-data", type=_path, dest="data",
                          help="a labelled .ts/.npz file, or for a run on clips a folder or "
                          ".csv manifest of labelled clips (default: the run's test split)")
    evaluate.add_argument("--overwrite", action="store_true", help="replace files in "
                          "RUN_DIR/evaluation/ that timedist did not write")
    predict = commands.add_parser(
        "predict", help="predict a file with a run's best checkpoint")
    predict.add_argument("run_dir", type=_path, metavar="RUN_DIR")
    predict.add_argument("--input", type=_path, required=True,
                         help=".ts/.npz samples, or for a run on clips a video, a folder of "
                         "frames or a folder of them (labels not needed)")
    predict.add_argument("--output", type=_path, required=True,
                         help=".csv (labels, values) or .npz (frames)")
    predict.add_argument("--model", type=_path, metavar="FILE.onnx",
                         help="predict with the run exported by timedist export, in onnxruntime "
                         "(default: the best checkpoint, in torch)")
    predict.add_argument("--overwrite", action="store_true",
                         help="replace an existing --output file (never an input)")
    export = commands.add_parser(
        "export", help="export a run's best model with its preprocessing to ONNX or .pt2")
    export.add_argument("run_dir", type=_path, metavar="RUN_DIR")
    export.add_argument("--format", choices=("onnx", "pt2"), default="onnx",
                        help="onnx (default; runs in onnxruntime) or pt2 (torch.export)")
    export.add_argument("--out", type=_path, metavar="FILE", help="the file to write (default: "
                        "RUN_DIR/model.onnx, model-step.onnx with --streaming, or .pt2)")
    export.add_argument("--streaming", action="store_true",
                        help="export the one-step model (x_t, state) -> (y_t, state) of a "
                        "recurrent run, for real-time use")
    export.add_argument("--overwrite", action="store_true", help="replace an existing file")
    for command in (evaluate, predict, export):
        command.add_argument("--unfinished", action="store_true",
                             help="use a run that has not finished (stopped, or still "
                             "training: no metrics.json), with its best checkpoint so far")
        _add_debug(command)


def _fit(args: argparse.Namespace) -> int:
    from .train import fit, resolve_config
    from .train.config import ConfigError, RunConfig, load_config_file

    run_options = ("config", "out", "overwrite", "resume", "quiet", "command", "debug")
    flags = {k: v for k, v in vars(args).items() if k not in run_options}
    if args.resume:
        changed = sorted(set(flags) - set(_PLACEMENT)) + (["config"] if args.config else []) + (
            ["out"] if args.out else []) + (["overwrite"] if args.overwrite else [])
        if changed:  # --overwrite too: a resumed run replaces nothing, it continues
            extra = ", ".join("--" + c.replace("_", "-") for c in changed)
            raise ConfigError(f"--resume continues the stored config; drop {extra}")
        from .train.rundir import RunDir

        stored = {**RunConfig.load(RunDir(Path(args.resume)).config).to_dict(), "cache": None}
        config = resolve_config(stored, flags)
    else:
        from .train.record import run_config_values

        layers = [run_config_values(args.config, load_config_file(args.config))
                  ] if args.config else []
        config = resolve_config(*layers, flags, origins=[args.config] if args.config else [])
    from_file = set(layers[0]) - set(flags) if not args.resume and layers else set()
    try:
        fit(config, out=args.out, overwrite=args.overwrite, resume=args.resume,
            verbose=not args.quiet, progress=False if args.quiet else None)
    except ConfigError as error:  # "--epochs 3: applies to ...": say where epochs was set
        if any(str(error).startswith(f"--{k.replace('_', '-')} ") for k in from_file):
            raise ConfigError(f"{args.config}: {error}") from None
        raise
    return 0


def _export(args: argparse.Namespace) -> int:
    from .export import export_run
    from .train.rundir import RunDir

    out = args.out
    if out is None:
        out = str(RunDir(Path(args.run_dir)).exported(args.format, streaming=args.streaming))
    elif not out.endswith("." + args.format):
        raise ValueError(f"--out {out}: expected a file ending in .{args.format} for --format "
                         f"{args.format}")
    report = export_run(args.run_dir, out, streaming=args.streaming, overwrite=args.overwrite,
                        unfinished=args.unfinished)
    print(report.summary())
    return 0


def run_training_command(args: argparse.Namespace) -> int:
    """Run ``fit``/``evaluate``/``predict``/``export``; errors reach :func:`timedist.cli.main`,
    which prints them as one line."""
    if args.command == "fit":
        return _fit(args)
    if args.command == "export":
        return _export(args)
    from .train import evaluate, predict

    if args.command == "evaluate":
        evaluate(args.run_dir, data=args.data, overwrite=args.overwrite,
                 unfinished=args.unfinished)
    else:
        predict(args.run_dir, args.input, args.output, model=args.model,
                overwrite=args.overwrite, unfinished=args.unfinished)
    return 0
