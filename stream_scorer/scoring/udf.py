"""The scoring pandas UDF: Kafka `value` bytes in, the scored struct out, per Arrow batch.

The UDF's closure holds small things only (the artefact handle, version, manifest, schemas);
the model reaches executors as `distribution` says (broadcast bytes, or a per-machine cache
file for big models) and each Python worker loads a version once
(`distribution.worker_cache`), at the start of a task, never per Arrow batch or per row.
"""

import dataclasses
import functools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import BinaryType, StructField, StructType

from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.distribution.base import Artefact
from stream_scorer.distribution.worker_cache import cached_predictor, key_of
from stream_scorer.features.base import DecodedBatch, Decoder
from stream_scorer.features.factory import build_decoder
from stream_scorer.flavors.base import Features, Predictions, Predictor
from stream_scorer.monitoring.baseline import monitored_prediction
from stream_scorer.monitoring.counts import DRIFT, BatchCounts
from stream_scorer.scoring.output import (
    MODEL_KEY,
    SCORED_AT_MICROS,
    probability_fields,
    udf_struct,
)
from stream_scorer.scoring.shadow import ShadowModel, shadow_columns, udf_fields
from stream_scorer.serving.model import ServingModel
from stream_scorer.types import TYPES, FieldType

_PROBABILITY = TYPES["double"].nullable
"""pandas dtype of a probability column (null on rows that were not scored)."""


@dataclasses.dataclass(frozen=True)
class BatchScoring:
    """What a Python worker needs to score Kafka values with one model version: small
    things only (the artefact handle, the slimmed manifest, the decoder), shipped in a
    closure. `struct` is the scored struct each batch gives (`output.udf_struct`, then the
    shadow's `udf_fields` with a shadow, then `counts.DRIFT` when monitoring counts)."""

    cache_key: str
    artefact: Artefact
    manifest: Manifest
    trusted: tuple[str, ...]
    unsafe: bool
    decoder: Decoder
    included: Mapping[str, FieldType] | None
    challenger: ShadowModel | None
    with_shadow: bool
    capacity: int
    struct: StructType
    counts: BatchCounts | None = None

    @classmethod
    def of(
        cls,
        serving: ServingModel,
        features: FeaturesConfig,
        cache_capacity: int,
        shadow: ServingModel | None = None,
        with_shadow: bool = False,
        with_features: bool = False,
        counts: BatchCounts | None = None,
    ) -> "BatchScoring":
        """The scoring of `serving`.

        Parameters
        ----------
        serving
            A `ServingModel` (version, manifest, artefact, trust settings).
        features
            Declared feature schema and passthrough fields.
        cache_capacity
            Model versions each Python worker keeps deserialised.
        shadow, with_shadow
            With `with_shadow`, the struct has the `shadow.udf_fields`, filled by the
            challenger `shadow` over the same rows (null while `shadow` is None); its versions
            are cached beside the served model's (one more per worker), loaded with its own
            trust settings.
        with_features
            The struct starts with the parsed feature columns (format json), typed as declared.
        counts
            Monitoring: each Arrow batch's measures (`monitoring.counts`) in the struct's
            binary `DRIFT` field, on its first row.
        """
        # Executors need neither the canary rows nor `extra` (a family's per-key listing).
        empty = Canary(rows=[], predictions=[])
        manifest = dataclasses.replace(serving.manifest, canary=empty, extra={})
        included = dict(features.feature_schema) if with_features else None
        passthrough = dict(features.passthrough)
        struct = udf_struct(manifest, passthrough, included, serving.route_by is not None)
        if with_shadow:
            struct = StructType(struct.fields + udf_fields(manifest))
        if counts is not None:
            struct = StructType([*struct.fields, StructField(DRIFT, BinaryType())])
        return cls(
            cache_key=key_of(serving.version, manifest.sha256),
            artefact=serving.artefact,
            manifest=manifest,
            trusted=tuple(serving.trusted_types),
            unsafe=serving.unsafe_load,
            decoder=build_decoder(features, manifest, serving.route_by),
            included=included,
            challenger=ShadowModel.of(shadow) if shadow is not None else None,
            with_shadow=with_shadow,
            capacity=cache_capacity + 1 if with_shadow else cache_capacity,
            struct=struct,
            counts=counts,
        )

    def open(self) -> Callable[[Sequence[bytes | None]], pd.DataFrame]:
        """Load (or take from this worker's cache) the model versions; return the function
        scoring one batch of values into `struct`'s columns. Call once per task."""
        capacity = self.capacity
        predictor = cached_predictor(
            self.cache_key, self.artefact, self.manifest, self.trusted, capacity, self.unsafe
        )
        loaded = self.challenger.load(capacity) if self.challenger is not None else None
        in_shadow = None
        if self.with_shadow:
            in_shadow = functools.partial(shadow_columns, loaded, self.manifest)
        return functools.partial(
            _score_batch,
            predictor,
            self.decoder,
            in_shadow=in_shadow,
            included=self.included,
            counts=self.counts,
        )


def scoring_udf(scoring: BatchScoring) -> Callable[..., Column]:
    """Return the non-deterministic iterator pandas UDF scoring a binary `value` column into
    `scoring.struct`.

    The UDF never fails on a bad record: its row gets `error`. It fails the task only if the
    artefact cannot be fetched or deserialised (a ScorerError).
    """

    def score_batches(batches: Iterator[pd.Series]) -> Iterator[pd.DataFrame]:
        score = scoring.open()
        for values in batches:
            yield score(values)

    udf = F.pandas_udf(score_batches, scoring.struct)  # type: ignore[call-overload]
    return udf.asNondeterministic()


def _score_batch(
    predictor: Predictor,
    decoder: Decoder,
    values: Sequence[bytes | None],
    in_shadow: Callable[..., dict] | None = None,
    included: Mapping[str, FieldType] | None = None,
    counts: BatchCounts | None = None,
) -> pd.DataFrame:
    """Decode and predict one Arrow batch; returns `udf_struct`'s columns in order (the
    decoded feature columns `included` first), then `in_shadow(features, good, ok)`'s
    (`shadow.shadow_columns`), then with `counts` the batch's measures (`DRIFT`)."""
    n, manifest = len(values), predictor.manifest
    decoded = decoder.decode(values)
    errors = decoded.errors
    ok = pd.isna(errors) if any(errors) else np.ones(n, dtype=bool)
    good = np.flatnonzero(ok)
    inputs = decoded.features if len(good) == n else _rows(decoded, good)
    predicted = predictor.predict(inputs)
    if any(predicted.errors):
        for i, error in zip(good, predicted.errors, strict=True):
            if error is not None:
                errors[i] = error
                ok[i] = False
    nullable = TYPES[manifest.prediction_type].nullable
    columns = {name: decoded.features[name] for name in included or ()}
    columns.update(decoded.passthrough.items())
    columns["prediction"] = _spread(predicted.prediction, good, ok, nullable)
    proba = predicted.probabilities
    for k, name in enumerate(probability_fields(manifest)):
        columns[name] = _spread(None if proba is None else proba[:, k], good, ok, _PROBABILITY)
    if predicted.model_keys is not None:
        columns[MODEL_KEY] = _spread(predicted.model_keys, good, ok, "object")
    columns[SCORED_AT_MICROS] = np.full(n, time.time_ns() // 1000, dtype=np.int64)
    columns["error"] = np.fromiter(errors, dtype=object, count=n)  # 6x np.array's speed
    if in_shadow is not None:
        columns.update(in_shadow(inputs, good, ok))
    if counts is not None:
        columns[DRIFT] = _measures(counts, manifest.task, decoded, good, ok, predicted)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def _measures(
    counts: BatchCounts,
    task: str,
    decoded: DecodedBatch,
    good: np.ndarray,
    ok: np.ndarray,
    predicted: Predictions,
) -> np.ndarray:
    """The `DRIFT` column: the batch's payload on its first row, null on the others."""
    column = np.full(len(ok), None, dtype=object)
    if len(ok):
        scored = ok[good]
        probability = predicted.probability
        value = monitored_prediction(
            task,
            predicted.prediction[scored],
            None if probability is None else probability[scored],
        )
        column[0] = counts.payload(decoded.features, good, value, decoded.errors)
    return column


def _rows(decoded: DecodedBatch, good: np.ndarray) -> Features:
    features = decoded.features
    return features.iloc[good] if isinstance(features, pd.DataFrame) else features[good]


def _spread(values: np.ndarray | None, good: np.ndarray, ok: np.ndarray, dtype: str) -> pd.Series:
    """Values of the scored rows `good` placed in a batch-long column; null where not `ok`."""
    if values is not None and len(values) == len(ok) and ok.all():
        return pd.Series(values)
    column = pd.Series(pd.array([None] * len(ok), dtype=dtype))
    if values is not None:
        column.iloc[good] = values
        column[~ok] = None
    return column
