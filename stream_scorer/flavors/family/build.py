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
from stream_scorer.flavors.family.members import (
    MEMBER_FORMATS,
    KeyModel,
    format_of,
    member_format,
)
from stream_scorer.flavors.family.predictor import load
from stream_scorer.flavors.sklearn.describe import prediction_type_of
from stream_scorer.types import TYPES, FieldType, PredictionType, Scalar

FAMILY_FILE = "family.bin"


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
    def member_format(self) -> ModelFormat:
        """How each key's model is stored in the artefact (`members.member_format`)."""
        return member_format(self.estimator)

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
    """The estimator, serialised in the spec's member format."""
    rows: int
    score: float | None
    fit_seconds: float
    canary: list[dict[str, Scalar]]
    """A few of its training rows: feature name -> value."""
    classes: list[Scalar] | None = None
    """A native classifier's labels, which its booster does not record."""


def build_family(
    spec: TrainSpec,
    fitted: list[FittedKey],
    skipped: dict[str, str],
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> tuple[bytes, Manifest]:
    """Return the family artefact and its manifest (version empty: the store assigns it).

    Every model is loaded back as a scorer will load it: a pickle through the restricted
    unpickler, admitting `trusted_types` beyond the allowlist (or anything with
    `unsafe_load`), both recorded in the manifest as `versions.publish.publish_sklearn`
    records them; a model in its library's own format with that library's booster loader.

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
    classes = {f.key: f.classes for f in fitted if f.classes is not None}
    payload = pack(members, fallback.payload if fallback else None, classes)
    fmt = spec.member_format
    members_format = MEMBER_FORMATS[fmt]
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
    draft = new_manifest(
        payload,
        members_format.versions(),
        file=FAMILY_FILE,
        format=fmt,
        feature_names=list(spec.feature_types),
        feature_types=dict(spec.feature_types),
        input_layout="frame" if members_format.frame_input else spec.layout,
        task="regression",
        prediction_type="double",
        classes=None,
        kind=FAMILY_KIND,
        extra={FAMILY_KIND: info.to_extra()},
        trusted_types=sorted(set(trusted_types)),
        unsafe_load=unsafe_load,
    )
    models = [_loaded(f, draft) for f in fitted]
    task, prediction_type, labels = _family_task(models)
    manifest = dataclasses.replace(
        draft,
        task=task,
        prediction_type=prediction_type,
        classes=labels,
        estimator=models[0].name,
    )
    rows = [{ROUTE_KEY: f.key, **row} for f in fitted for row in f.canary]
    canary = load(payload, manifest, trusted_types, unsafe_load).canary(rows)
    return payload, dataclasses.replace(manifest, canary=canary)


def _loaded(fitted: FittedKey, draft: Manifest) -> KeyModel:
    try:
        return format_of(draft).load(
            fitted.payload, fitted.classes, draft, draft.trusted_types, draft.unsafe_load
        )
    except ModelRejectedError as exc:
        msg = f"the model of key {fitted.key!r}: {exc}"
        raise ModelRejectedError(msg) from exc


def _family_task(models: list[KeyModel]) -> tuple[Task, PredictionType, list[Scalar] | None]:
    """Task, prediction type and the union of classes (sorted) of a family's models."""
    if all(m.regressor for m in models):
        return "regression", "double", None
    if any(m.regressor or m.classes is None for m in models):
        msg = "a family's models must all be regressors or all be fitted classifiers"
        raise ModelRejectedError(msg)
    classes = np.unique(np.concatenate([np.asarray(m.classes) for m in models]))
    if len(classes) < 2:
        msg = f"the family's models were fitted on {len(classes)} class; need at least 2"
        raise ModelRejectedError(msg)
    task: Task = "binary" if len(classes) == 2 else "multiclass"
    return task, prediction_type_of(classes), classes.tolist()


def _stats(fitted: FittedKey) -> KeyStats:
    sha256 = hashlib.sha256(fitted.payload).hexdigest()
    return KeyStats(sha256, fitted.rows, fitted.score, round(fitted.fit_seconds, 4))
