"""scikit-learn's estimator protocol without importing scikit-learn: parameters, repr, tags
and ``score``, so that ``import timedist.estimators`` costs little more than ``import torch``.

scikit-learn (with SciPy) takes ~0.8-1.3 s to import on 2 cores, as long as torch itself;
subclassing its ``BaseEstimator`` would pay that on every import. The protocol is small and
duck-typed — ``clone``, pipelines and searches call ``get_params``/``set_params``, read
``__sklearn_tags__`` and call ``fit``/``predict``/``score`` — so it is written here, and
scikit-learn is imported where its code runs: tags (asked only by scikit-learn itself),
scores, and the checks of labels and of inputs that are not plain float arrays.
``tests/estimators/test_estimators.py`` runs scikit-learn's own estimator checks against it.
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["Estimator", "not_fitted"]


class Estimator:
    """Parameters are the keyword arguments of ``__init__``, stored under their own names."""

    _estimator_type: str = ""  # "classifier" or "regressor" in subclasses

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """The constructor's argument names, sorted (no ``*args``)."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        if any(p.kind == p.VAR_POSITIONAL for p in parameters):
            raise RuntimeError(f"{cls.__name__}: estimators name their parameters (no *args)")
        return sorted(p.name for p in parameters if p.name != "self" and p.kind != p.VAR_KEYWORD)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """{name: value} of the constructor's parameters (``deep``: and of nested estimators,
        as ``name__inner``)."""
        params: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params: Any) -> Estimator:
        """Set parameters by name; an unknown name is a ValueError listing the valid ones."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"Invalid parameter {name!r} for estimator {self}. Valid "
                                 f"parameters are: {valid!r}.")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        """``Name(changed=value, ...)``: the parameters that differ from their defaults."""
        defaults = {p.name: p.default for p in
                    inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{name}={value!r}" for name, value in self.get_params(deep=False).items()
                   if not _same(value, defaults.get(name, inspect.Parameter.empty))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags

        tags = Tags(estimator_type=self._estimator_type or None,
                    target_tags=TargetTags(required=bool(self._estimator_type)),
                    transformer_tags=None, regressor_tags=None, classifier_tags=None)
        if self._estimator_type == "classifier":
            tags.classifier_tags = ClassifierTags()
        elif self._estimator_type == "regressor":
            tags.regressor_tags = RegressorTags()
        return tags

    def _score(self, X: Any, y: np.ndarray, sample_weight: Any) -> float:
        """Accuracy (classifier) or R^2 (regressor) of ``predict(X)`` against y."""
        from sklearn.metrics import accuracy_score, r2_score

        metric = accuracy_score if self._estimator_type == "classifier" else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))  # type: ignore[attr-defined]


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter still has its default (arrays and NaN compared as values)."""
    if value is default:
        return True
    try:
        return bool(value == default) and type(value) is type(default)
    except (TypeError, ValueError):  # arrays and the like: shown
        return False


def not_fitted(estimator: Any, attribute: str) -> None:
    """Raise scikit-learn's NotFittedError (a ValueError and AttributeError) unless
    ``estimator`` has ``attribute``."""
    if not hasattr(estimator, attribute):
        from sklearn.exceptions import NotFittedError

        raise NotFittedError(f"This {type(estimator).__name__} instance is not fitted yet. Call "
                             "'fit' with appropriate arguments before using this estimator.")
