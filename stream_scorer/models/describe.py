"""Describe a fitted estimator as a `Manifest` at publish time: signature, task, canary."""

import hashlib
import platform
from datetime import datetime, timezone
from typing import Any, get_args

import numpy as np
import pandas as pd

from stream_scorer.config.settings import FieldType
from stream_scorer.errors import ModelRejectedError
from stream_scorer.models.manifest import Canary, Manifest, ModelFormat, PredictionType, Task
from stream_scorer.models.model_input import LAYOUT_KEY, NUMERIC_TYPES, Layout, model_input

FILE_NAMES: dict[ModelFormat, str] = {
    "joblib": "model.joblib",
    "pickle": "model.pkl",
    "skops": "model.skops",
}
"""Artefact file name inside a version directory, by format."""

_SYNTHETIC: dict[str, tuple[Any, ...]] = {
    "double": (0.0, 1.0, -1.5),
    "float": (0.0, 1.0, -1.5),
    "long": (0, 1, -1),
    "int": (0, 1, -1),
    "string": ("", "canary text", ""),
    "boolean": (False, True, False),
}


def describe(
    model: object,
    payload: bytes,
    fmt: ModelFormat,
    feature_types: dict[str, str],
    canary_rows: list[dict[str, Any]] | None = None,
) -> Manifest:
    """Build the manifest of `model`, whose artefact bytes are `payload`.

    The returned manifest's `version` is empty: the store fills it in when it assigns one.

    Raises
    ------
    ModelRejectedError
        If the model is neither classifier nor regressor, its signature does not match
        `feature_types`, a canary row lacks a feature, or predicting the canary fails.
    """
    names = _checked_features(model, feature_types)
    task, prediction_type, classes = task_of(model)
    layout = _layout(model, feature_types)
    rows = canary_rows if canary_rows is not None else synthetic_rows(feature_types)
    return Manifest(
        version="",
        file=FILE_NAMES[fmt],
        format=fmt,
        sha256=hashlib.sha256(payload).hexdigest(),
        feature_names=names,
        feature_types=dict(feature_types),
        task=task,
        prediction_type=prediction_type,
        classes=classes,
        library_versions=library_versions(),
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        canary=canary_of(model, rows, names, feature_types, layout),
        estimator=estimator_name(model),
        extra={LAYOUT_KEY: layout},
    )


def task_of(model: object) -> tuple[Task, PredictionType, list[Any] | None]:
    """Return (task, prediction type, classes as JSON-able values) of a fitted estimator."""
    from sklearn.base import is_classifier, is_regressor

    if is_regressor(model):
        return "regression", "double", None
    if not is_classifier(model) or not hasattr(model, "classes_"):
        msg = f"{estimator_name(model)} is neither a fitted classifier nor a regressor"
        raise ModelRejectedError(msg)
    classes = np.asarray(model.classes_)
    if len(classes) < 2:
        msg = f"{estimator_name(model)} was fitted on {len(classes)} class; need at least 2"
        raise ModelRejectedError(msg)
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    if classes.dtype == np.bool_:
        kind: PredictionType = "boolean"
    elif np.issubdtype(classes.dtype, np.integer):
        kind = "long"
    elif np.issubdtype(classes.dtype, np.floating):
        kind = "double"
    else:
        kind = "string"
    return task, kind, classes.tolist()


def synthetic_rows(feature_types: dict[str, str]) -> list[dict[str, Any]]:
    """Three canary rows built from the feature types (0.0 / 1.0 / -1.5, '' / 'canary text')."""
    return [{name: _SYNTHETIC[kind][i] for name, kind in feature_types.items()} for i in range(3)]


def canary_of(
    model: object,
    rows: list[dict[str, Any]],
    names: list[str],
    feature_types: dict[str, str],
    layout: Layout | None,
) -> Canary:
    """Predict `rows` (and their probabilities, for classifiers) with `model`."""
    missing = sorted({n for row in rows for n in names if n not in row})
    if not rows or missing:
        msg = f"canary rows must be non-empty and hold every feature; missing {missing}"
        raise ModelRejectedError(msg)
    kept = [{name: row[name] for name in names} for row in rows]
    features = model_input(pd.DataFrame(kept, columns=names), names, feature_types, layout)
    try:
        predictions = np.asarray(model.predict(features)).tolist()
        probabilities = (
            np.asarray(model.predict_proba(features), dtype=np.float64).tolist()
            if hasattr(model, "classes_") and hasattr(model, "predict_proba")
            else None
        )
    except Exception as exc:
        msg = f"{estimator_name(model)} failed to predict the canary rows: {exc!r}"
        raise ModelRejectedError(msg) from exc
    return Canary(rows=kept, predictions=predictions, probabilities=probabilities)


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


def estimator_name(model: object) -> str:
    """Class name, with the steps of a Pipeline: 'Pipeline(HashingVectorizer, MultinomialNB)'."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return f"{type(model).__name__}({', '.join(type(s).__name__ for _, s in steps)})"
    return type(model).__name__


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


def _checked_features(model: object, feature_types: dict[str, str]) -> list[str]:
    names = list(feature_types)
    unknown = {n: t for n, t in feature_types.items() if t not in get_args(FieldType)}
    if not names or unknown:
        msg = f"feature types must be non-empty, each one of {get_args(FieldType)}; got {unknown}"
        raise ModelRejectedError(msg)
    check_signature(model, names)
    return names


def _layout(model: object, feature_types: dict[str, str]) -> Layout:
    """DataFrame for models fitted with names; arrays for numeric models fitted without."""
    if getattr(model, "feature_names_in_", None) is not None:
        return "frame"
    if len(feature_types) == 1 and "string" in feature_types.values():
        return "column"
    if all(kind in NUMERIC_TYPES for kind in feature_types.values()):
        return "array"
    return "frame"
