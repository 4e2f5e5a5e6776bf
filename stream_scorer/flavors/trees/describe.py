"""Describe a loaded booster as a `Manifest` at publish: its features checked against the
config's, its task and classes, the library version, the canary predicted by the booster."""

import dataclasses
import platform
from collections.abc import Callable
from typing import Any

import numpy as np

from stream_scorer.config.model_settings import TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest, ModelFormat, Task
from stream_scorer.contract.trees_spec import Library, TreesSpec
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.base import new_manifest
from stream_scorer.flavors.trees.booster import Booster, BoosterInfo, library
from stream_scorer.flavors.trees.predictor import BoosterLoader, TreesPredictor
from stream_scorer.types import TYPES, FieldType, PredictionType, Scalar


def describe_trees(
    booster: Booster,
    library: Library,
    payload: bytes,
    fmt: ModelFormat,
    features: FeaturesConfig,
    options: TreesModelConfig,
    canary_rows: list[dict[str, Scalar]] | None = None,
) -> Manifest:
    """Build the manifest of `booster`, loaded from the artefact `payload` (format `fmt`),
    for the config's `features`, as `options` describe it.

    Raises
    ------
    ModelRejectedError
        If the booster's features differ from the config's (both lists named), the classes
        do not fit, or the canary rows fail.
    """
    info = booster.info()
    types = check_features(info, features)
    task, prediction_type, classes = task_of(info, options.classes)
    spec = TreesSpec(
        library=library,
        objective=info.objective,
        num_class=info.num_class,
        threads=options.threads,
        categories=info.categories,
        margin=info.margin,
    )
    manifest = new_manifest(
        payload,
        library_versions(library),
        file=FILE_NAMES[fmt],
        format=fmt,
        feature_names=list(types),
        feature_types=types,
        input_layout="frame",
        task=task,
        prediction_type=prediction_type,
        classes=classes,
        estimator=info.description,
        kind=library,
        trees=spec,
    )
    rows = canary_rows
    if rows is None:
        rows = synthetic_rows(types, info.categories, features.nullable)
    canary = TreesPredictor(booster, manifest).canary(rows)
    return dataclasses.replace(manifest, canary=canary)


FILE_NAMES: dict[ModelFormat, str] = {
    "xgboost-json": "model.json",
    "xgboost-ubj": "model.ubj",
    "lightgbm-text": "model.txt",
    "catboost-cbm": "model.cbm",
}
"""Artefact file name inside a version directory, by format."""


def check_features(info: BoosterInfo, features: FeaturesConfig) -> dict[str, FieldType]:
    """The config's feature types, once they fit the booster's: same names in the same order
    (or the same count, when the file records no names), categorical features typed string
    and the others numeric.

    Raises
    ------
    ModelRejectedError
        Naming both lists, or each feature whose type does not fit.
    """
    if features.format != "json":
        msg = f"a booster takes feature columns: features.format json, not {features.format}"
        raise ModelRejectedError(msg)
    schema = dict(features.feature_schema)
    names = list(schema)
    if info.feature_names is not None and info.feature_names != names:
        msg = (
            f"the booster was trained on features {info.feature_names} but the config declares "
            f"{names}; names and order must match"
        )
        raise ModelRejectedError(msg)
    if len(info.categorical) != len(names):
        msg = (
            f"the booster takes {len(info.categorical)} features (it records no names) but the "
            f"config declares {len(names)}: {names}"
        )
        raise ModelRejectedError(msg)
    problems = [
        f"'{name}' is {'categorical' if is_cat else 'numeric'} in the booster and typed "
        f"{schema[name]} in the config (declare it {'string' if is_cat else 'double'})"
        for name, is_cat in zip(names, info.categorical, strict=True)
        if is_cat == TYPES[schema[name]].numeric
    ]
    if problems:
        raise ModelRejectedError("feature types do not fit: " + "; ".join(problems))
    if not info.nullable_categories:
        cats = [n for n, c in zip(names, info.categorical, strict=True) if c]
        nullable = [n for n in features.nullable if n in cats]
        if nullable:
            msg = (
                f"categorical features {nullable} are in features.nullable, but this library "
                "has no missing category; send a string (as in training) and remove them"
            )
            raise ModelRejectedError(msg)
    return schema


def task_of(
    info: BoosterInfo, classes: list[str | int] | None
) -> tuple[Task, PredictionType, list[Scalar] | None]:
    """(task, prediction type, classes): the labels are `classes` (`--classes`), else those
    the file records, else 0, 1, ...

    Raises
    ------
    ModelRejectedError
        If labels are given for a regressor, or their count is not the booster's, or they
        differ from labels the file records.
    """
    if info.num_class == 0:
        if classes:
            msg = f"classes {classes} are given, but the booster is a regressor ({info.objective})"
            raise ModelRejectedError(msg)
        return "regression", "double", None
    recorded = info.classes
    if classes and recorded is not None and [str(c) for c in classes] != [str(c) for c in recorded]:
        msg = f"classes {classes} are given, but the booster records classes {recorded}"
        raise ModelRejectedError(msg)
    labels: list[Scalar] = list(classes or recorded or range(info.num_class))
    if len(labels) != info.num_class or len(set(labels)) != len(labels):
        msg = f"classes {labels}: the booster has {info.num_class} distinct classes"
        raise ModelRejectedError(msg)
    kind: PredictionType = "long" if all(type(c) is int for c in labels) else "string"
    task: Task = "binary" if info.num_class == 2 else "multiclass"
    return task, kind, [TYPES[kind].python(c) for c in labels]


def synthetic_rows(
    types: dict[str, FieldType], categories: dict[str, list[str]], nullable: list[str]
) -> list[dict[str, Any]]:
    """Three canary rows of each type's canary values, known categories where the file
    records them (so that the canary exercises categorical splits); and, when features are
    `nullable`, a fourth with them missing (None), which every load predicts again."""
    rows: list[dict[str, Any]] = []
    for i in range(3):
        row: dict[str, Any] = {}
        for name, kind in types.items():
            known = categories.get(name)
            row[name] = known[i % len(known)] if known else TYPES[kind].canary[i]
        rows.append(row)
    if nullable:
        rows.append({**rows[0], **dict.fromkeys(nullable)})
    return rows


def library_versions(name: Library) -> dict[str, str]:
    """Versions of python, numpy and the tree library running here (the module's own: the
    `xgboost-cpu` distribution installs the module `xgboost` too)."""
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        name: str(library(name).__version__),
    }


Describe = Callable[
    [bytes, FeaturesConfig, TreesModelConfig, list[dict[str, Scalar]] | None], Manifest
]
"""A tree kind's describe: (payload, features, options, canary rows) -> manifest."""


def describer(
    name: Library, load_booster: BoosterLoader, format_of: Callable[[bytes], ModelFormat]
) -> Describe:
    """The describe of the tree kind `name`: its booster loaded from the bytes (with the
    options' threads), then `describe_trees` in the format `format_of` the bytes.

    The describe raises ModelRejectedError as `load_booster` and `describe_trees` do.
    """

    def describe(
        payload: bytes,
        features: FeaturesConfig,
        options: TreesModelConfig,
        canary_rows: list[dict[str, Scalar]] | None = None,
    ) -> Manifest:
        booster = load_booster(payload, options.threads)
        fmt = format_of(payload)
        return describe_trees(booster, name, payload, fmt, features, options, canary_rows)

    return describe
