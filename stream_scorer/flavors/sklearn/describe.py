"""Describe a fitted estimator as a `Manifest` at publish time: signature, task, canary."""

import dataclasses
import platform
from collections.abc import Mapping

import numpy as np
import pandas as pd

from stream_scorer.contract.manifest import Canary, Manifest, ModelFormat, Task
from stream_scorer.contract.model_input import Layout, default_layout, model_input
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.base import new_manifest
from stream_scorer.flavors.sklearn.estimator import (
    Estimator,
    as_estimator,
    estimator_name,
    gives_probabilities,
    has_classes,
)
from stream_scorer.types import FIELD_TYPES, TYPES, FieldType, PredictionType, Scalar, is_field_type

FILE_NAMES: dict[ModelFormat, str] = {
    "joblib": "model.joblib",
    "pickle": "model.pkl",
    "skops": "model.skops",
}
"""Artefact file name inside a version directory, by format."""


def describe(
    model: object,
    payload: bytes,
    fmt: ModelFormat,
    feature_types: Mapping[str, str],
    canary_rows: list[dict[str, Scalar]] | None = None,
) -> Manifest:
    """Build the manifest of `model`, whose artefact bytes are `payload`.

    Starts from `new_manifest` (no version yet); the canary is predicted by `model`.

    Raises
    ------
    ModelRejectedError
        If the model is neither classifier nor regressor, its signature does not match
        `feature_types`, a canary row lacks a feature, or predicting the canary fails.
    """
    estimator = as_estimator(model)
    types = _checked_types(estimator, feature_types)
    task, prediction_type, classes = task_of(estimator)
    rows = canary_rows if canary_rows is not None else synthetic_rows(types)
    manifest = new_manifest(
        payload,
        library_versions(),
        file=FILE_NAMES[fmt],
        format=fmt,
        feature_names=list(types),
        feature_types=types,
        input_layout=_layout(estimator, types),
        task=task,
        prediction_type=prediction_type,
        classes=classes,
        estimator=estimator_name(estimator),
    )
    return dataclasses.replace(manifest, canary=canary_of(estimator, rows, manifest))


def task_of(model: Estimator) -> tuple[Task, PredictionType, list[Scalar] | None]:
    """Return (task, prediction type, classes as JSON-able values) of a fitted estimator."""
    from sklearn.base import is_classifier, is_regressor

    if is_regressor(model):
        return "regression", "double", None
    if not is_classifier(model) or not has_classes(model):
        msg = f"{estimator_name(model)} is neither a fitted classifier nor a regressor"
        raise ModelRejectedError(msg)
    classes = np.asarray(model.classes_)
    if len(classes) < 2:
        msg = f"{estimator_name(model)} was fitted on {len(classes)} class; need at least 2"
        raise ModelRejectedError(msg)
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    return task, prediction_type_of(classes), classes.tolist()


def prediction_type_of(classes: np.ndarray) -> PredictionType:
    """The declared type of a classifier's predictions, from its classes' dtype."""
    if classes.dtype == np.bool_:
        return "boolean"
    if np.issubdtype(classes.dtype, np.integer):
        return "long"
    if np.issubdtype(classes.dtype, np.floating):
        return "double"
    return "string"


def synthetic_rows(feature_types: Mapping[str, FieldType]) -> list[dict[str, Scalar]]:
    """Three canary rows of each type's `canary` values (0.0 / 1.0 / -1.5, '' / 'canary text')."""
    return [{name: TYPES[kind].canary[i] for name, kind in feature_types.items()} for i in range(3)]


def canary_of(model: Estimator, rows: list[dict[str, Scalar]], manifest: Manifest) -> Canary:
    """Predict `rows` (and their probabilities, for classifiers) with `model`, shaped for it
    as `manifest` says (feature names, types, input layout)."""
    names = manifest.feature_names
    missing = sorted({n for row in rows for n in names if n not in row})
    if not rows or missing:
        msg = f"canary rows must be non-empty and hold every feature; missing {missing}"
        raise ModelRejectedError(msg)
    kept = [{name: row[name] for name in names} for row in rows]
    frame = pd.DataFrame(kept, columns=names)
    features = model_input(frame, names, manifest.feature_types, manifest.input_layout)
    try:
        predictions = np.asarray(model.predict(features))
        probabilities = (
            np.asarray(model.predict_proba(features), dtype=np.float64)
            if manifest.is_classifier and gives_probabilities(model)
            else None
        )
    except Exception as exc:
        msg = f"{estimator_name(model)} failed to predict the canary rows: {exc!r}"
        raise ModelRejectedError(msg) from exc
    _check_shapes(model, len(kept), predictions, probabilities, manifest)
    return Canary(
        rows=kept,
        predictions=predictions.tolist(),
        probabilities=None if probabilities is None else probabilities.tolist(),
    )


def _check_shapes(
    model: Estimator,
    n: int,
    predictions: np.ndarray,
    probabilities: np.ndarray | None,
    manifest: Manifest,
) -> None:
    """Refuse outputs the scored row cannot hold: `predict` must give one value per row,
    `predict_proba` one column per class (a multi-output model fails every batch otherwise)."""
    problems = []
    if predictions.shape != (n,):
        problems.append(f"predict gave shape {predictions.shape}, expected ({n},)")
    classes = len(manifest.classes or [])
    if probabilities is not None and probabilities.shape != (n, classes):
        problems.append(
            f"predict_proba gave shape {probabilities.shape}, expected ({n}, {classes})"
        )
    if problems:
        msg = (
            f"{estimator_name(model)}: {'; '.join(problems)} for {n} canary rows; only "
            "single-output models are supported (one prediction per record)"
        )
        raise ModelRejectedError(msg)


def library_versions() -> dict[str, str]:
    """Versions of python, scikit-learn, numpy and joblib running here."""
    import joblib
    import sklearn

    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }


def check_signature(model: object, names: list[str]) -> None:
    """Raise ModelRejectedError unless the model's own feature names and count match `names`."""
    fitted = getattr(model, "feature_names_in_", None)
    if fitted is not None and list(fitted) != names:
        msg = (
            f"the model was fitted on features {list(fitted)} but the schema declares "
            f"{names}; names and order must match"
        )
        raise ModelRejectedError(msg)
    count = getattr(model, "n_features_in_", None)
    if count is not None and count != len(names):
        msg = f"the model expects {count} features but the schema declares {len(names)}: {names}"
        raise ModelRejectedError(msg)


def _checked_types(model: Estimator, feature_types: Mapping[str, str]) -> dict[str, FieldType]:
    types = {n: t for n, t in feature_types.items() if is_field_type(t)}
    unknown = {n: t for n, t in feature_types.items() if n not in types}
    if not types or unknown:
        msg = f"feature types must be non-empty, each one of {FIELD_TYPES}; got {unknown}"
        raise ModelRejectedError(msg)
    check_signature(model, list(types))
    return types


def _layout(model: Estimator, feature_types: dict[str, FieldType]) -> Layout:
    """DataFrame for models fitted with names; arrays for numeric models fitted without."""
    if getattr(model, "feature_names_in_", None) is not None:
        return "frame"
    if all(TYPES[kind].numeric for kind in feature_types.values()):
        return "array"
    return default_layout(feature_types)
