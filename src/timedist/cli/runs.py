"""``timedist fit | evaluate | predict | export``: the command-line face of
:mod:`timedist.runs` (each command's arguments and what it runs, for the table in
:mod:`timedist.cli.main`).

Flags left out keep the value of ``--config`` or the dataset's defaults (argparse.SUPPRESS), so
only what the user typed overrides them. Failures reach :func:`timedist.cli.main`, the one
error handler, which prints ``timedist <command>: error: <message>`` and returns 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .args import path

__all__ = ["add_evaluate", "add_export", "add_fit", "add_predict", "run_evaluate", "run_export",
           "run_fit", "run_predict"]

# Settings that --resume may change (where it runs, and the clip cache, which only saves
# decoding and is never taken from the stored config: a folder to write into is named by the
# user who runs the command); everything else is the stored config's.
_PLACEMENT = ("devices", "num_nodes", "strategy", "accelerator", "ddp_timeout", "cache")


def add_fit(fit: argparse.ArgumentParser) -> None:
    """One flag per RunConfig field (name, type, group and help come from the field: a flag
    and its config key cannot drift apart), then the run's own options."""
    from dataclasses import fields

    from ..data import DATASETS
    from ..models.registry import MODELS
    from ..models.rocket import FEATURES
    from ..runs.config import GROUPS, PATHS, RunConfig, setting_type

    names = {"datasets": ", ".join(DATASETS), "models": ", ".join(MODELS),
             "features": ", ".join(FEATURES)}
    groups = {key: fit.add_argument_group(title) for key, title in GROUPS.items()}
    for setting in fields(RunConfig):
        kind, _ = setting_type(setting.name)
        options: dict[str, Any] = {"default": argparse.SUPPRESS,  # only typed flags override
                                   "help": setting.metadata["help"].format(**names)}
        if kind is bool:
            options["action"] = argparse.BooleanOptionalAction
        elif setting.name in PATHS:
            options["type"] = path
        elif kind in (int, float):
            options["type"], options["metavar"] = kind, "N" if kind is int else "X"
        groups[setting.metadata["group"]].add_argument(
            "--" + setting.name.replace("_", "-"), **options)
    run = fit.add_argument_group("run")
    run.add_argument("--config", type=path, metavar="FILE",
                     help="YAML/JSON settings; flags override them")
    run.add_argument("--out", type=path, metavar="RUN_DIR",
                     help="run directory (default runs/<data>)")
    run.add_argument("--overwrite", action="store_true", help="replace an existing RUN_DIR")
    run.add_argument("--resume", type=path, metavar="RUN_DIR", help="continue an interrupted run")
    run.add_argument("--quiet", action="store_true",
                     help="print only notes and errors (on stderr): no progress or results")


def _unfinished(command: argparse.ArgumentParser) -> None:
    command.add_argument("--unfinished", action="store_true",
                         help="use a run that has not finished (stopped, or still training: "
                         "no metrics.json), with its best checkpoint so far")


def add_evaluate(evaluate: argparse.ArgumentParser) -> None:
    evaluate.add_argument("run_dir", type=path, metavar="RUN_DIR")
    evaluate.add_argument("--data", "--test-data", type=path, dest="data",
                          help="a labelled sample file (.ts, .npz, a .csv/.tsv/.parquet table, "
                          ".txt, .arff), a folder or manifest of labelled recordings, or for a "
                          "run on clips a folder or .csv manifest of labelled clips (default: "
                          "the run's test split)")
    evaluate.add_argument("--overwrite", action="store_true", help="replace files in "
                          "RUN_DIR/evaluation/ that timedist did not write")
    _unfinished(evaluate)


def add_predict(predict: argparse.ArgumentParser) -> None:
    predict.add_argument("run_dir", type=path, metavar="RUN_DIR")
    predict.add_argument("--input", type=path, required=True,
                         help="samples (.ts, .npz, a .csv/.tsv/.parquet table, .txt, .arff), "
                         "for a run on recordings one recording or a folder of them, or for a "
                         "run on clips a video, a folder of frames or a folder of them (labels "
                         "not needed)")
    predict.add_argument("--output", type=path, required=True,
                         help=".csv (labels, values) or .npz (frames)")
    predict.add_argument("--model", type=path, metavar="FILE.onnx",
                         help="predict with the run exported by timedist export, in onnxruntime "
                         "(default: the best checkpoint, in torch)")
    predict.add_argument("--overwrite", action="store_true",
                         help="replace an existing --output file (never an input)")
    _unfinished(predict)


def add_export(export: argparse.ArgumentParser) -> None:
    export.add_argument("run_dir", type=path, metavar="RUN_DIR")
    export.add_argument("--format", choices=("onnx", "pt2"), default="onnx",
                        help="onnx (default; runs in onnxruntime) or pt2 (torch.export)")
    export.add_argument("--out", type=path, metavar="FILE", help="the file to write (default: "
                        "RUN_DIR/model.onnx, model-step.onnx with --streaming, or .pt2)")
    export.add_argument("--streaming", action="store_true",
                        help="export the one-step model (x_t, state) -> (y_t, state) of a "
                        "recurrent run, for real-time use")
    export.add_argument("--overwrite", action="store_true", help="replace an existing file")
    _unfinished(export)


def run_fit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..runs.config import ConfigError, RunConfig, load_config_file, resolve_config
    from ..runs.run import fit

    run_options = ("config", "out", "overwrite", "resume", "quiet", "command", "debug")
    flags = {k: v for k, v in vars(args).items() if k not in run_options}
    if args.resume:
        changed = sorted(set(flags) - set(_PLACEMENT)) + (["config"] if args.config else []) + (
            ["out"] if args.out else []) + (["overwrite"] if args.overwrite else [])
        if changed:  # --overwrite too: a resumed run replaces nothing, it continues
            extra = ", ".join("--" + c.replace("_", "-") for c in changed)
            raise ConfigError(f"--resume continues the stored config; drop {extra}")
        from ..runs.rundir import RunDir

        stored = {**RunConfig.load(RunDir(Path(args.resume)).config).to_dict(), "cache": None}
        config = resolve_config(stored, flags)
    else:
        from ..runs.record import run_config_values

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


def run_export(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..deploy.export import export_run
    from ..runs.rundir import RunDir

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


def run_evaluate(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..runs.run import evaluate

    evaluate(args.run_dir, data=args.data, overwrite=args.overwrite, unfinished=args.unfinished)
    return 0


def run_predict(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from ..runs.run import predict

    predict(args.run_dir, args.input, args.output, model=args.model, overwrite=args.overwrite,
            unfinished=args.unfinished)
    return 0
