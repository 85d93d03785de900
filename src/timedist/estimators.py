"""scikit-learn estimators over timedist's training: ``TimeSeriesClassifier`` and
``TimeSeriesRegressor`` run the same defaults as ``timedist fit`` on arrays.

X is a numpy array (N, T) of univariate series, (N, T, C) (timedist's batch-first layout;
``channels_first=True`` takes aeon's/sktime's (N, C, T)), or a list of (T_i,) / (T_i, C)
arrays of unequal lengths. NaN marks a missing value; infinities are an error. y is 1-D: labels
of any type (classifier) or floats (regressor).

>>> import numpy as np
>>> from timedist.estimators import TimeSeriesClassifier
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 60)); y = np.repeat(["flat", "rising"], 20)
>>> X[20:] += np.linspace(0, 3, 60)
>>> clf = TimeSeriesClassifier(members=1, random_state=0).fit(X[::2], y[::2])
>>> clf.score(X[1::2], y[1::2]), clf.classes_.tolist()
(1.0, ['flat', 'rising'])
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ._checks import shorten, shorten_text
from ._estimator_api import Estimator, not_fitted
from .data import (
    SequenceDataset,
    Task,
    label_names,
    sample_keys,
    without_values,
    without_values_text,
)
from .data.frames import long_series
from .runs.closed_form import save_checkpoint
from .runs.config import ARRAYS, RunConfig, resolve_config
from .runs.device import resolve_device
from .runs.evaluation import collect
from .runs.fitting import build_task, train
from .runs.prepare import build_model, prepare
from .runs.record import (
    apply_record,
    load_best,
    make_record,
    stored_run,
    trained_samples,
    write_record,
    write_samples,
)
from .runs.rundir import RunDir
from .runs.task import TaskModel

__all__ = ["TimeSeriesClassifier", "TimeSeriesRegressor"]

# The estimators' hyper-parameters that are RunConfig settings under the same name.
_SETTINGS = ("model", "features", "num_features", "members", "normalize", "val_split",
             "epochs", "steps", "converge", "batch_size", "lr", "weight_decay", "hidden_size",
             "num_layers",
             "bidirectional", "cell", "dropout", "subsequences", "accelerator")


def _seed(random_state: Any) -> int:
    """An int seed from scikit-learn's random_state (None -> 0: reproducible by default)."""
    if random_state is None:
        return 0
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(np.iinfo(np.int32).max))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return int(random_state)
    raise ValueError(f"expected random_state None, an int or a numpy RandomState; got "
                     f"{random_state!r}")


class _Series:
    """X as a list of (T_i, C) float64 tensors (raw values keep their precision until they
    are standardized; float32 input stays float32, sharing its memory), and what kind of
    input it was."""

    def __init__(self, X: Any, channels_first: bool, who: str) -> None:
        self.array: tuple[int, ...] | None = None  # shape[1:] of an array input
        long = long_series(X, who)  # a long-format data frame: one (T_i, C) array per series
        if long is not None:
            self.sequences = [self._one(x, False, who, i) for i, x in enumerate(long[0])]
            return
        listed = isinstance(X, (list, tuple)) and len(X) > 0
        # A list of (T_i, C) arrays, or of 1-D series of different lengths, is a list of
        # series; a list of equal-length rows is a table, as scikit-learn reads it.
        if listed and all(np.ndim(x) > 0 for x in X) and (
                any(np.ndim(x) > 1 for x in X) or len({len(x) for x in X}) > 1):
            self.sequences = [self._one(x, channels_first, who, i) for i, x in enumerate(X)]
        else:
            if listed and np.ndim(X[0]) == 0:
                raise ValueError(f"{who}: expected X of shape (N, T) or (N, T, C), or a list of "
                                 f"(T_i,)/(T_i, C) arrays; got a 1-D list of {len(X)} numbers."
                                 " Reshape a single series with X.reshape(1, -1)")
            array = _numbers(X, "X", who, allow_nd=True)
            if array.ndim > 3:
                raise ValueError(f"{who}: expected X of shape (N, T) or (N, T, C); got shape "
                                 f"{array.shape}")
            self.array = tuple(array.shape[1:])
            if array.ndim == 2:
                array = array[:, :, None]
            elif channels_first:
                array = array.transpose(0, 2, 1)
            self.sequences = list(_shared(array))
        if not self.sequences:
            raise ValueError(f"{who}: expected at least one series in X; got none")

    @staticmethod
    def _one(x: Any, channels_first: bool, who: str, index: int) -> Tensor:
        if len(x) == 0:
            raise ValueError(f"{who}: expected X[{index}] of at least one step; got an empty "
                             "series")
        if np.ndim(x) > 2:
            raise ValueError(f"{who}: expected X[{index}] of shape (T_i,) or (T_i, C); got shape "
                             f"{np.shape(x)}")
        a = _numbers(np.reshape(x, (len(x), -1)) if np.ndim(x) == 1 else x, f"X[{index}]", who)
        if channels_first:
            a = a.T
        if a.shape[0] < 1:
            raise ValueError(f"{who}: expected X[{index}] of at least one step; got shape "
                             f"{a.shape}")
        return _shared(a)

    @property
    def channels(self) -> int:
        return int(self.sequences[0].shape[1])


def _shared(array: np.ndarray) -> Tensor:
    """``array`` as a tensor sharing its memory where it is C-contiguous — a read-only
    memory map (``np.load(..., mmap_mode="r")``) too: timedist never writes into X, so data
    larger than memory is read from the file as it is used."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "The given NumPy array is not writable")
        return torch.from_numpy(np.ascontiguousarray(array))


def _numbers(x: Any, name: str, who: str, **kwargs: Any) -> np.ndarray:
    """``x`` as a float64 array (scikit-learn's ``check_array``: NaN allowed, infinities
    not), its failures (ValueError or TypeError, as scikit-learn raises them) as one line
    naming ``name`` — never the array itself. A float array without infinities (2-D, or
    more with ``allow_nd``), the common case, passes as it is: scikit-learn's checks cost
    ~0.15 ms per series of a list (a third of a small fit's time), and importing scikit-learn
    ~1 s."""
    if (type(x) is np.ndarray and x.dtype in (np.float64, np.float32) and x.size > 0
            and (x.ndim == 2 or (x.ndim > 2 and kwargs.get("allow_nd")))
            and set(kwargs) <= {"allow_nd"} and not np.isinf(x).any()):
        return x
    from sklearn.utils import check_array

    try:
        # float32 stays float32 (no copy: it has no more digits to keep); others -> float64
        array: np.ndarray = check_array(x, dtype=[np.float64, np.float32],
                                        ensure_all_finite="allow-nan", input_name=name,
                                        **kwargs)
        return array
    except (ValueError, TypeError) as error:
        lines = [line.strip() for line in str(error).strip().splitlines()]
        text = " ".join(line for line in lines if line and not line.startswith(("array=", "[")))
        if "Complex data" in text:
            text = (f"expected real numbers in {name}; got complex values (Complex data not "
                    "supported): pass the real part, or real and imaginary parts as two "
                    "channels")
        elif "sequence" in text:  # numpy: "setting an array element with a sequence"
            text = (f"expected {name} of numbers (N, T) or (N, T, C), or a list of (T_i,)/"
                    "(T_i, C) arrays; got cells that hold sequences (a nested DataFrame as "
                    "sktime writes it, or rows of unequal length): pass a list of arrays")
        raise type(error)(f"{who}: {shorten_text(text or type(error).__name__)}") from None


class _TimeSeriesEstimator(Estimator):
    """What both estimators share: settings -> RunConfig, fit, outputs, save and load."""

    _task = Task.CLASSIFICATION
    classes_: np.ndarray  # a classifier's labels, set by fit and load

    def __init__(self, model: str | None = None, *, features: str = "minirocket+hydra",
                 num_features: int = 10_000, members: int | None = None,
                 normalize: str = "channel", val_split: float | None = None,
                 epochs: int | None = None, steps: int | None = None,
                 converge: bool | None = None, batch_size: int = 32,
                 lr: float = 3e-3, weight_decay: float = 0.0, hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = False, cell: str = "lstm",
                 dropout: float = 0.0, subsequences: int = 4, accelerator: str = "auto",
                 random_state: Any = None, channels_first: bool = False,
                 verbose: bool = False) -> None:
        self.model = model
        self.features = features
        self.num_features = num_features
        self.members = members
        self.normalize = normalize
        self.val_split = val_split
        self.epochs = epochs
        self.steps = steps
        self.converge = converge
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.cell = cell
        self.dropout = dropout
        self.subsequences = subsequences
        self.accelerator = accelerator
        self.random_state = random_state
        self.channels_first = channels_first
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.allow_nan = True  # missing values: 0 after normalization
        tags.non_deterministic = False
        return tags

    def _config(self) -> RunConfig:
        """The settings as a RunConfig, each checked for its type and range as a config file's
        are (``members=1.5`` is an error naming ``members``)."""
        settings = {name: getattr(self, name) for name in _SETTINGS}
        if self._task is Task.REGRESSION:
            settings["relative"] = self.relative  # type: ignore[attr-defined]
        return resolve_config({"data": ARRAYS, "seed": _seed(self.random_state), **settings})

    def _series(self, X: Any) -> _Series:
        return _Series(X, self.channels_first, type(self).__name__)

    def _fit(self, X: Any, targets: Tensor, classes: list[str] | None) -> None:
        who = type(self).__name__
        series = self._series(X)
        if len(series.sequences) != len(targets):
            raise ValueError(f"{who}: expected one target per series; got {len(targets)} "
                             f"targets for {len(series.sequences)} series")
        if len(targets) < 2:
            raise ValueError(f"{who}: expected at least 2 samples; got n_samples=1")
        config = self._config()
        torch.manual_seed(config.seed)
        data = SequenceDataset(series.sequences, targets, classes=classes, name="X")
        prepared = prepare(config, data, None)
        keys = sample_keys(data)  # a saved run recognizes its training samples by them
        if self.verbose:
            print("\n".join(f"chose  {why}" for why in prepared.choices), flush=True)
        task = build_task(prepared)  # a network imports Lightning only now (the train extra)
        train(task, prepared, resolve_device(config.accelerator, config.devices),
              verbose=self.verbose, progress=self.verbose)
        self.model_ = task.model.eval()
        self.config_ = prepared.config
        self.record_ = make_record(prepared)
        self.choices_ = prepared.choices
        self.training_keys_ = keys
        self.n_features_in_ = series.array[0] if series.array else series.channels
        self.input_shape_ = series.array
        self.n_channels_ = series.channels

    def _outputs(self, X: Any) -> Tensor:
        """(N, outputs) of the fitted model for X (logits or standardized values)."""
        not_fitted(self, "model_")
        who = type(self).__name__
        series = self._series(X)
        if series.channels != self.n_channels_:
            raise ValueError(f"{who}: expected series of {self.n_channels_} channels like in "
                             f"fit; got {series.channels}")
        if series.array and self.input_shape_ and series.array != self.input_shape_:
            fitted = ", ".join(map(str, self.input_shape_))
            if series.array[0] == self.input_shape_[0]:  # the same length, other axes
                raise ValueError(f"{who}: expected X of shape (N, {fitted}) like in fit; got "
                                 f"shape (N, {', '.join(map(str, series.array))})")
            raise ValueError(f"X has {series.array[0]} features, but {who} is expecting "
                             f"{self.n_features_in_} features as input (an array of shape "
                             f"(N, {', '.join(map(str, self.input_shape_))}) like in fit; pass a"
                             " list of arrays for series of other lengths)")
        series_normalized = self.config_.normalize == "series"
        empty = without_values(series.sequences, constant=series_normalized)
        if empty:  # the model's answer for no data would pass for a prediction
            found = without_values_text(empty, len(series.sequences), constant=series_normalized,
                                        unit="series")
            warnings.warn(f"{who}: {found}: their predictions say nothing about them "
                          f"(X[{shorten_text(', '.join(map(str, empty)), 60)}])", UserWarning,
                          stacklevel=3)
        placeholder = torch.zeros(len(series.sequences), dtype=torch.long)
        data = SequenceDataset(series.sequences, placeholder, name="X")
        data = apply_record(data, self.record_, labelled=False)
        outputs, _ = collect(TaskModel(self.model_, self.record_.task), data)
        return outputs

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the fitted model as a run directory that ``timedist evaluate``/``predict``
        (and :meth:`load`) read: config.yaml, preprocessing.json, checkpoints/best.ckpt and
        last.ckpt, metrics.json, and the marker that proves them timedist's. Refuses a
        non-empty folder unless ``overwrite`` and it is a run timedist can prove it wrote,
        holding only timedist's files as it wrote them (FileExistsError naming the others
        otherwise); the check is repeated once the folder is locked."""
        not_fitted(self, "model_")
        if not str(path).strip():  # Path("") is the current folder
            raise ValueError(f"{type(self).__name__}.save: expected a folder path; got "
                             f"{str(path)!r}")
        run = RunDir(Path(path))
        flag = "overwrite=True"
        run.check_place("path")  # a folder of its own, not inside another run
        if not run.is_empty():
            try:  # a folder that is not timedist's first: overwrite=True would not help
                run.check_replaceable(flag=flag, out="path")
            except ValueError as error:
                raise FileExistsError(str(error)) from None
            if not overwrite:
                raise FileExistsError(f"{run.path}: the folder is not empty; pass "
                                      "overwrite=True to replace a saved timedist model there")
        try:  # labels that would not read back the same: refused before anything is written
            record = self.record_.with_labels(getattr(self, "classes_", None))
        except ValueError as error:
            raise ValueError(f"{run.path}: {error}") from None
        with run.session(create=True) as session:
            try:
                session.replace(overwrite=overwrite, flag=flag)
            except ValueError as error:
                raise FileExistsError(str(error)) from None
            session.start({}, record.classes)
            write_record(session, self.config_, record)
            if getattr(self, "training_keys_", None):  # (pickles of earlier versions lack it)
                write_samples(session, self.training_keys_)
            task = TaskModel(self.model_, self.record_.task)
            for name in ("checkpoints/best.ckpt", "checkpoints/last.ckpt"):
                save_checkpoint(task, session, name)
            metrics = {"data": ARRAYS, "model": self.config_.model,
                       "parameters": sum(p.numel() for p in self.model_.parameters())}
            session.write("metrics.json", json.dumps(metrics, indent=1) + "\n")
            session.finish()
        return run.path

    @classmethod
    def load(cls, path: str | Path, *, unfinished: bool = False) -> Any:
        """A fitted estimator from a run directory (written by :meth:`save` or by
        ``timedist fit`` on signals of the same task); ``unfinished`` allows a run that has
        not finished (its best checkpoint so far)."""
        run_dir = Path(path)
        with RunDir(run_dir).reading() as marker:
            config, record = stored_run(run_dir, unfinished=unfinished)
            kept = trained_samples(RunDir(run_dir), marker)
            samples = kept[0] if kept and not kept[1] else []  # (exact keys: not comparable)
            spec = record.spec
            if record.task != cls._task:
                raise ValueError(f"{run_dir}: expected a {cls._task} run for {cls.__name__}; "
                                 f"got a {record.task} run")
            if record.task is Task.REGRESSION and spec.num_outputs != 1:
                raise ValueError(f"{run_dir}: expected a run with one target per series for "
                                 f"{cls.__name__} (y of shape (N,)); this run has "
                                 f"{spec.num_outputs} (predict it with timedist predict)")
            if len(spec.step_shape) != 1:
                raise ValueError(f"{run_dir}: expected a run on signals, steps (C,); got steps "
                                 f"{spec.step_shape}")
            task = TaskModel(build_model(config, spec), spec.task)
            load_best(task.model, run_dir)
        settings = {name: getattr(config, name) for name in _SETTINGS}
        if cls._task is Task.REGRESSION:
            settings["relative"] = config.relative
        estimator = cls(**settings, random_state=config.seed)
        estimator.model_, estimator.config_ = task.model.eval(), config
        estimator.record_, estimator.choices_, estimator.training_keys_ = record, [], samples
        estimator.n_channels_ = spec.step_shape[0]
        estimator.n_features_in_, estimator.input_shape_ = estimator.n_channels_, None
        labels = record.original_labels()
        if labels is not None:  # a classification run
            estimator.classes_ = labels
        return estimator


def _labels(y: Any, who: str) -> np.ndarray:
    """Labels y (N,) as one numpy array, refused when one is missing (None, NaN, NaT), when
    they are of mixed kinds (numpy would turn ``["1", 1]`` into two ``"1"``, ``[True, 1]`` into
    two 1) or Python integers beyond 64 bits."""
    from sklearn.utils.validation import column_or_1d

    array: np.ndarray = column_or_1d(np.asarray(y), warn=True)
    missing = (np.isnat(array) if array.dtype.kind in "Mm" else np.isnan(array)
               if array.dtype.kind in "fc" else None)
    if missing is not None and missing.any():
        what = "NaT: a missing date or duration" if array.dtype.kind in "Mm" else "nan"
        raise ValueError(f"{who}: expected a label for every series in y; got a missing value "
                         f"({what}) at index {int(missing.argmax())}")
    if array.dtype != object and isinstance(y, np.ndarray):
        return array
    values = column_or_1d(np.asarray(y, dtype=object), warn=False).tolist()
    first = next((i for i, v in enumerate(values) if _missing(v)), None)
    if first is not None:
        raise ValueError(f"{who}: expected a label for every series in y; got a missing value "
                         f"({shorten(values[first])}) at index {first}")
    kinds: dict[str, Any] = {}  # kind -> its first label
    for value in values:
        kind = ("text" if isinstance(value, str) else "boolean" if isinstance(
            value, (bool, np.bool_)) else "integer" if isinstance(value, (int, np.integer))
            else type(value).__name__)
        kinds.setdefault(kind, value)
    if len(kinds) > 1 and ({"text", "boolean"} & set(kinds)):
        raise ValueError(f"{who}: expected labels of one kind in y (all numbers, all text or "
                         "all booleans); got " + ", ".join(
                             f"{kind} ({shorten(value)})" for kind, value in
                             sorted(kinds.items())))
    if array.dtype == object and set(kinds) == {"integer"}:  # Python ints numpy kept as such
        for dtype in (np.int64, np.uint64):
            if all(np.iinfo(dtype).min <= v <= np.iinfo(dtype).max for v in values):
                return np.asarray(array.astype(dtype))
        wide = next(v for v in values if not -2**63 <= v < 2**64)
        raise ValueError(f"{who}: expected integer labels within 64 bits (or text); got "
                         f"{shorten(wide)}: pass them as str")
    return array


def _targets(y: Any, who: str) -> np.ndarray:
    """Regression targets y (N,) as float64: finite numbers, one line naming y otherwise."""
    from sklearn.utils.validation import column_or_1d

    try:
        y = column_or_1d(np.asarray(y), warn=True)
    except ValueError as error:
        raise ValueError(f"{who}: expected targets y of shape (N,); {error}") from None
    values: np.ndarray = _numbers(y, "y", who, ensure_2d=False).copy()
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"{who}: expected a target for every series in y; got a missing value "
                         f"(nan) at index {int(bad.argmax())}")
    return values


def _missing(value: Any) -> bool:
    """Whether one label is a missing value: None, NaN, NaT (numpy's or pandas'), pandas'
    NA."""
    if value is None or (isinstance(value, (float, np.floating)) and value != value):
        return True
    if isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return type(value).__name__ in ("NaTType", "NAType")


_PARAMETERS_DOC = """
    Parameters (``None``: chosen from the data, as ``timedist fit`` does; printed choices are
    in ``choices_``):
        model: ``"rocket"`` (signals' default), ``"inception"``, ``"resnet"``, ``"fcn"``,
            ``"sequence"``, ``"cnn-lstm"``.
        features, num_features, members: rocket's feature families, features per member and
            ensemble size.
        normalize: ``"channel"`` (training statistics per channel), ``"series"``, ``"none"``.
        val_split, epochs, steps, batch_size, lr, weight_decay: networks' training (budget in
            optimizer ``steps`` unless ``epochs`` is given).
        converge: stop a network once training has converged (None: on for the ``steps``
            budget, off with ``epochs``; the rule: :mod:`timedist.train.convergence`).
        hidden_size, num_layers, bidirectional, cell, dropout, subsequences: recurrent models.
        accelerator: ``"auto"`` (a GPU when there is one), ``"cpu"``, ``"gpu"``.
        random_state: None (seed 0), an int, or a numpy RandomState.
        channels_first: X arrays are (N, C, T) (aeon, sktime) instead of (N, T, C).
        verbose: print the choices made from the data, and Lightning's progress when
            training a network.

    Attributes after ``fit``: ``n_features_in_`` (X.shape[1] of an array X, as scikit-learn
    counts it; the channels for a list), ``model_`` (the torch module), ``config_``
    (the resolved RunConfig), ``choices_``, ``training_keys_`` (one key per training series,
    :func:`timedist.data.sample_keys`: a saved run recognizes them in ``timedist evaluate
    --data``, also when saved again with less precision).
"""


class TimeSeriesClassifier(_TimeSeriesEstimator):
    __doc__ = """Classify time series with timedist's defaults (random convolution features and
    a ridge ensemble for signals), scikit-learn style: ``fit``, ``predict``,
    ``predict_proba``, ``score``; ``classes_`` holds the labels in column order.
    """ + _PARAMETERS_DOC

    _task, _estimator_type = Task.CLASSIFICATION, "classifier"

    def fit(self, X: Any, y: Any) -> TimeSeriesClassifier:
        """Fit on X (see the module) and labels y (N,)."""
        self._series(X)  # X's errors first (empty, wrong shape), as scikit-learn reports them
        from sklearn.utils.multiclass import check_classification_targets

        y = _labels(y, type(self).__name__)
        check_classification_targets(y)
        classes, index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__}: expected at least 2 classes in y; got 1 "
                             f"class ({classes[0]})")
        # class names as the labels print (dates' tolist() gives nanoseconds as integers)
        names = label_names(classes.astype(str).tolist() if classes.dtype.kind in "Mm" else
                            classes.tolist(), f"{type(self).__name__}: y")
        self._fit(X, torch.as_tensor(index, dtype=torch.long), names)
        self.classes_ = classes
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, n_classes) probabilities, columns in the order of ``classes_``."""
        return self._outputs(X).double().softmax(-1).numpy()

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against labels y (N,), checked as ``fit`` checks
        them (a missing label is an error naming its index)."""
        return self._score(X, _labels(y, type(self).__name__), sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """(N,) the most probable label of each series."""
        index = self._outputs(X).argmax(-1).numpy()  # checks that it is fitted first
        return self.classes_[index]  # type: ignore[no-any-return]


class TimeSeriesRegressor(_TimeSeriesEstimator):
    __doc__ = """Regress a float target from time series with timedist's defaults,
    scikit-learn style: ``fit``, ``predict``, ``score`` (R^2). ``relative``: recurrent
    forecasting models predict the change from the last value of channel 0.
    """ + _PARAMETERS_DOC

    _task, _estimator_type = Task.REGRESSION, "regressor"

    def __init__(self, model: str | None = None, *, features: str = "minirocket+hydra",
                 num_features: int = 10_000, members: int | None = None,
                 normalize: str = "channel", val_split: float | None = None,
                 epochs: int | None = None, steps: int | None = None,
                 converge: bool | None = None, batch_size: int = 32,
                 lr: float = 3e-3, weight_decay: float = 0.0, hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = False, cell: str = "lstm",
                 dropout: float = 0.0, subsequences: int = 4, relative: bool = False,
                 accelerator: str = "auto", random_state: Any = None,
                 channels_first: bool = False, verbose: bool = False) -> None:
        super().__init__(
            model, features=features, num_features=num_features, members=members,
            normalize=normalize, val_split=val_split, epochs=epochs, steps=steps,
            converge=converge, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
            hidden_size=hidden_size,
            num_layers=num_layers, bidirectional=bidirectional, cell=cell, dropout=dropout,
            subsequences=subsequences, accelerator=accelerator, random_state=random_state,
            channels_first=channels_first, verbose=verbose)
        self.relative = relative

    def fit(self, X: Any, y: Any) -> TimeSeriesRegressor:
        """Fit on X (see the module) and float targets y (N,)."""
        self._fit(X, torch.as_tensor(_targets(y, type(self).__name__)), None)
        return self

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of ``predict(X)`` against targets y (N,), checked as ``fit`` checks them."""
        return self._score(X, _targets(y, type(self).__name__), sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """(N,) predicted targets, in y's units."""
        outputs = self._outputs(X)
        scale = self.record_.target_scale
        assert scale is not None  # a regression record always has one
        values = outputs.double() * scale.std.double() + scale.mean.double()
        return values.reshape(len(values)).numpy()
