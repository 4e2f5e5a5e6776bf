"""Assemble fitted per-key models into one family version: the artefact and its manifest.

No Spark here: `family_train` fits the models and hands them over as `FittedKey`s. The
manifest's canary rows (a few training rows per key, and per fallback) are predicted by the
family loaded back from the artefact bytes, as the scorer will load it, so publishing checks
that every key's model deserialises and predicts.
"""

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stream_scorer.contract.family_info import FAMILY_KIND, FamilyInfo, KeyStats
from stream_scorer.contract.manifest import Manifest, ModelFormat, Task
from stream_scorer.contract.model_input import Layout, default_layout
from stream_scorer.errors import ModelRejectedError
from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import new_manifest
from stream_scorer.flavors.family.artefact import FALLBACK_KEY, pack
from stream_scorer.flavors.family.predictor import load
from stream_scorer.flavors.sklearn.describe import library_versions, prediction_type_of
from stream_scorer.flavors.sklearn.estimator import (
    Estimator,
    as_estimator,
    estimator_name,
    has_classes,
)
from stream_scorer.flavors.sklearn.formats import load_model_bytes
from stream_scorer.types import TYPES, FieldType, PredictionType, Scalar

FAMILY_FILE = "family.bin"
MEMBER_FORMAT: ModelFormat = "pickle"
"""How each key's model is serialised inside the family artefact."""


@dataclass(frozen=True)
class TrainSpec:
    """What to fit: one `estimator(**params)` per value of `key_column`, predicting `target`."""

    key_column: str
    target: str
    feature_types: dict[str, FieldType]
    """Model inputs, in order, with their declared types."""
    estimator: str
    """Import path, e.g. 'sklearn.linear_model.Ridge'."""
    params: dict[str, Any]
    min_rows: int = 1
    """Keys with fewer training rows get no model."""
    fallback: bool = False
    """Also fit one model on all rows, for keys without a model of their own."""

    @property
    def layout(self) -> Layout:
        """How models are fed: 2-D float arrays when every feature is numeric."""
        if all(TYPES[kind].numeric for kind in self.feature_types.values()):
            return "array"
        return default_layout(self.feature_types)


@dataclass(frozen=True)
class FittedKey:
    """One fitted model: its key (FALLBACK_KEY for the fallback), bytes and fit stats."""

    key: str
    payload: bytes
    """The estimator, serialised as MEMBER_FORMAT."""
    rows: int
    score: float | None
    fit_seconds: float
    canary: list[dict[str, Scalar]]
    """A few of its training rows: feature name -> value."""


def build_family(
    spec: TrainSpec,
    fitted: list[FittedKey],
    skipped: dict[str, str],
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> tuple[bytes, Manifest]:
    """Return the family artefact and its manifest (version empty: the store assigns it).

    Every model is loaded back through the restricted unpickler, admitting `trusted_types`
    beyond the allowlist (or anything with `unsafe_load`), as a scorer will load it; both
    are recorded in the manifest, like `versions.publish.publish_sklearn` records them.

    Raises
    ------
    ModelRejectedError
        If no key has a model, a model does not load, or the models disagree on the task.
    """
    members = {f.key: f.payload for f in fitted if f.key != FALLBACK_KEY}
    if not members:
        reasons = "; ".join(f"{k}: {r}" for k, r in list(skipped.items())[:5])
        msg = f"no key got a model ({len(skipped)} skipped: {reasons})"
        raise ModelRejectedError(msg)
    fallback = next((f for f in fitted if f.key == FALLBACK_KEY), None)
    payload = pack(members, fallback.payload if fallback else None)
    models = [_loaded(f, trusted_types, unsafe_load) for f in fitted]
    task, prediction_type, classes = _family_task(models)
    info = FamilyInfo(
        key_column=spec.key_column,
        target=spec.target,
        estimator=spec.estimator,
        params=spec.params,
        min_rows=spec.min_rows,
        keys={f.key: _stats(f) for f in fitted if f.key != FALLBACK_KEY},
        fallback=_stats(fallback) if fallback else None,
        skipped=skipped,
    )
    manifest = new_manifest(
        payload,
        library_versions(),
        file=FAMILY_FILE,
        format=MEMBER_FORMAT,
        feature_names=list(spec.feature_types),
        feature_types=dict(spec.feature_types),
        input_layout=spec.layout,
        task=task,
        prediction_type=prediction_type,
        classes=classes,
        estimator=estimator_name(models[0]),
        kind=FAMILY_KIND,
        extra={FAMILY_KIND: info.to_extra()},
        trusted_types=sorted(set(trusted_types)),
        unsafe_load=unsafe_load,
    )
    rows = [{ROUTE_KEY: f.key, **row} for f in fitted for row in f.canary]
    canary = load(payload, manifest, trusted_types, unsafe_load).canary(rows)
    return payload, dataclasses.replace(manifest, canary=canary)


def _loaded(fitted: FittedKey, trusted_types: Sequence[str], unsafe_load: bool) -> Estimator:
    try:
        return as_estimator(
            load_model_bytes(fitted.payload, MEMBER_FORMAT, trusted_types, unsafe_load)
        )
    except ModelRejectedError as exc:
        msg = f"the model of key {fitted.key!r}: {exc}"
        raise ModelRejectedError(msg) from exc


def _family_task(models: list) -> tuple[Task, PredictionType, list[Scalar] | None]:
    """Task, prediction type and the union of classes (sorted) of a family's models."""
    from sklearn.base import is_regressor

    regressors = [is_regressor(m) for m in models]
    if all(regressors):
        return "regression", "double", None
    if any(regressors) or not all(has_classes(m) for m in models):
        msg = "a family's models must all be regressors or all be fitted classifiers"
        raise ModelRejectedError(msg)
    classes = np.unique(np.concatenate([np.asarray(m.classes_) for m in models]))
    if len(classes) < 2:
        msg = f"the family's models were fitted on {len(classes)} class; need at least 2"
        raise ModelRejectedError(msg)
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    return task, prediction_type_of(classes), classes.tolist()


def _stats(fitted: FittedKey) -> KeyStats:
    sha256 = hashlib.sha256(fitted.payload).hexdigest()
    return KeyStats(sha256, fitted.rows, fitted.score, round(fitted.fit_seconds, 4))
