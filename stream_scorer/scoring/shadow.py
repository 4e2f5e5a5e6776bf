"""Champion/challenger shadow scoring: a second model version over the same decoded rows.

In the same UDF pass, the challenger predicts the rows the served model predicted, into
`shadow_prediction`, `shadow_probability` (classifiers), `shadow_model_version` and
`shadow_error`. Whatever the challenger does (fail to load, raise, refuse rows), the served
model's columns are untouched: rows it did not score get null shadow columns and a reason.
"""

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import DoubleType, StringType, StructField

from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.distribution.base import Artefact
from stream_scorer.distribution.worker_cache import cached_predictor, key_of
from stream_scorer.flavors.base import Features, Predictor
from stream_scorer.serving.model import ServingModel
from stream_scorer.types import TYPES

PREDICTION, PROBABILITY, VERSION, ERROR = (
    "shadow_prediction",
    "shadow_probability",
    "shadow_model_version",
    "shadow_error",
)


def skip_reason(served: ServingModel, shadow: ServingModel | None) -> str | None:
    """Why `shadow` cannot be compared with `served` this batch (same version, another task,
    type or classes), or None when it can (or there is no shadow)."""
    if shadow is None:
        return None
    if shadow.version == served.version:
        return f"shadow {shadow.version} is the served version"
    a, b = served.manifest, shadow.manifest
    if (a.task, a.prediction_type, a.classes) != (b.task, b.prediction_type, b.classes):
        return (
            f"shadow {shadow.version} predicts {b.task} {b.prediction_type} {b.classes}, "
            f"served {served.version} {a.task} {a.prediction_type} {a.classes}; not comparable"
        )
    if _decoded_as(a) != _decoded_as(b):
        return (
            f"shadow {shadow.version} wants its images preprocessed or sized otherwise than "
            f"served {served.version}; the rows are decoded once, for the served model"
        )
    return None


def _decoded_as(manifest: Manifest) -> object:
    """What the served decoder takes from a manifest (`features.factory`): an image model's
    preprocessing and size; nothing for JSON and tensor input, which the config fixes."""
    spec = manifest.onnx
    if spec is None or spec.preprocessing is None:
        return None
    return (spec.preprocessing, spec.image_size)


def udf_fields(served: Manifest) -> list[StructField]:
    """The UDF's shadow fields, typed as the served model's outputs (a shadow must match)."""
    fields = [StructField(PREDICTION, TYPES[served.prediction_type].spark)]
    if served.is_classifier:
        fields.append(StructField(PROBABILITY, DoubleType()))
    fields.append(StructField(ERROR, StringType()))
    return fields


def output_columns(
    shadow: ServingModel | None, served: Manifest, field: Callable[[str], Column]
) -> list[Column]:
    """The scored row's shadow columns, from the UDF's fields (`field(name)`)."""
    columns = [field(PREDICTION).alias(PREDICTION)]
    if served.is_classifier:
        columns.append(field(PROBABILITY).alias(PROBABILITY))
    version = F.lit(shadow.version if shadow else None).cast("string")
    columns.append(F.when(field(PREDICTION).isNotNull(), version).alias(VERSION))
    columns.append(field(ERROR).alias(ERROR))
    return columns


@dataclass(frozen=True)
class ShadowModel:
    """What the UDF's closure carries of the challenger: small things and its artefact handle
    (`distribution`: broadcast bytes, or for a big model the per-machine mapped file, as for
    the served model)."""

    version: str
    cache_key: str
    artefact: Artefact
    manifest: Manifest
    trusted_types: tuple[str, ...]
    unsafe_load: bool

    @classmethod
    def of(cls, serving: ServingModel) -> "ShadowModel":
        """From the challenger's `ServingModel` (its canary rows left behind), loaded with the
        trust settings its registry verified it with."""
        manifest = dataclasses.replace(serving.manifest, canary=Canary(rows=[], predictions=[]))
        return cls(
            serving.version,
            key_of(serving.version, manifest.sha256),
            serving.artefact,
            manifest,
            tuple(serving.trusted_types),
            serving.unsafe_load,
        )

    def load(self, capacity: int) -> Predictor | str:
        """The challenger's predictor from this worker's cache, or why it did not load."""
        try:
            return cached_predictor(
                self.cache_key,
                self.artefact,
                self.manifest,
                self.trusted_types,
                capacity,
                self.unsafe_load,
            )
        except Exception as exc:  # a challenger's fault must never fail the task
            return f"shadow {self.version} did not load: {type(exc).__name__}: {exc}"


def shadow_columns(
    challenger: Predictor | str | None,
    served: Manifest,
    features: Features,
    good: np.ndarray,
    ok: np.ndarray,
) -> dict[str, pd.Series | np.ndarray]:
    """The UDF's shadow fields for one Arrow batch.

    Parameters
    ----------
    challenger
        Its predictor; the reason it did not load; None when no challenger serves.
    served
        The served model's manifest (types the shadow fields).
    features
        The rows the served model predicted: the batch's rows `good`.
    good, ok
        Indices of the decoded rows; the batch-long mask of rows the served model scored.

    Never raises: a challenger that raises leaves its reason on every row it was given.
    """
    n = len(ok)
    prediction = pd.Series(pd.array([None] * n, dtype=TYPES[served.prediction_type].nullable))
    probability = pd.Series(pd.array([None] * n, dtype="Float64"))
    errors = np.full(n, None, dtype=object)
    if isinstance(challenger, str):
        errors[ok] = challenger
    elif challenger is not None:
        try:
            predicted = challenger.predict(features)
        except Exception as exc:  # the challenger's fault stays in its columns
            errors[ok] = f"shadow raised {type(exc).__name__}: {exc}"
        else:
            failed = np.array([e is not None for e in predicted.errors], dtype=bool)
            both = ok[good] & ~failed
            if len(good) == n and both.all():  # the usual case: every row scored by both
                prediction = pd.Series(predicted.prediction)
                probability = pd.Series(predicted.probability)
            else:
                prediction.iloc[good[both]] = predicted.prediction[both]
                if predicted.probability is not None:
                    probability.iloc[good[both]] = predicted.probability[both]
            for i in good[ok[good] & failed]:
                errors[i] = predicted.errors[np.searchsorted(good, i)]
    columns: dict[str, pd.Series | np.ndarray] = {PREDICTION: prediction}
    if served.is_classifier:
        columns[PROBABILITY] = probability
    columns[ERROR] = errors
    return columns
