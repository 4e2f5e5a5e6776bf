"""What a model artefact must deserialise to: a fitted scikit-learn-style estimator."""

import importlib
from collections.abc import Collection
from typing import Protocol, TypeGuard, cast

import numpy as np
import numpy.typing as npt

from stream_scorer.contract.model_input import ModelInput
from stream_scorer.errors import ConfigError, ModelRejectedError


class Estimator(Protocol):
    """A fitted model: scikit-learn's `predict` over what `model_input` gives."""

    def predict(self, X: ModelInput, /) -> npt.ArrayLike: ...


class Classifier(Estimator, Protocol):
    """A fitted classifier: `predict` gives one of `classes_`."""

    classes_: np.ndarray


class ProbabilisticClassifier(Classifier, Protocol):
    """A fitted classifier that also gives class probabilities, in `classes_` order."""

    def predict_proba(self, X: ModelInput, /) -> npt.ArrayLike: ...


def as_estimator(model: object) -> Estimator:
    """Return `model` typed as an `Estimator`.

    Raises
    ------
    ModelRejectedError
        If `model` has no `predict` method.
    """
    if not callable(getattr(model, "predict", None)):
        msg = f"{estimator_name(model)} is neither a fitted classifier nor a regressor"
        raise ModelRejectedError(msg)
    return cast(Estimator, model)


def has_classes(model: Estimator) -> TypeGuard[Classifier]:
    """True when `model` was fitted on classes."""
    return hasattr(model, "classes_")


def gives_probabilities(model: Estimator) -> TypeGuard[ProbabilisticClassifier]:
    """True when `model` has `classes_` and `predict_proba` (sklearn's `available_if` too)."""
    return hasattr(model, "classes_") and hasattr(model, "predict_proba")


def estimator_name(model: object) -> str:
    """Class name, with the steps of a Pipeline: 'Pipeline(HashingVectorizer, MultinomialNB)'."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return f"{type(model).__name__}({', '.join(type(s).__name__ for _, s in steps)})"
    return type(model).__name__


def import_estimator(path: str, allowed: Collection[str] = ()) -> type:
    """Return the estimator class named by its import path, e.g. 'sklearn.linear_model.Ridge'.

    Only `sklearn.*` classes and the paths in `allowed` are imported: importing a module
    runs its code.

    Raises
    ------
    ConfigError
        If the path is not allowed, does not import, or names no class with fit and predict.
    """
    if not path.startswith("sklearn.") and path not in allowed:
        msg = (
            f"estimator {path!r} is not allowed: only sklearn.* classes, and those listed in "
            "model.train_estimators"
        )
        raise ConfigError(msg)
    module, _, name = path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        msg = f"estimator {path!r} does not import: {exc}"
        raise ConfigError(msg) from exc
    if not isinstance(found, type) or not all(hasattr(found, m) for m in ("fit", "predict")):
        msg = f"{path!r} is not an estimator class (a class with fit and predict)"
        raise ConfigError(msg)
    return found
