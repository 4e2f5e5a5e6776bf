"""How the challenger compares with the served model, per micro-batch, computed in the JVM.

The aggregates ride on the batch's existing `Observation` (no extra pass over the rows).
They compare the rows both models scored; `errors` counts the rows the served model scored
and the challenger did not.
"""

from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

from stream_scorer.contract.manifest import Manifest
from stream_scorer.scoring.shadow import ERROR, PREDICTION
from stream_scorer.serving.model import ServingModel

RELATIVE_TOLERANCE = 1e-6
"""Regressors agree on a row when |served - shadow| <= this x max(|served|, 1)."""


@dataclass(frozen=True)
class ShadowStats:
    """The challenger against the served model over one micro-batch."""

    model_version: str | None
    """The challenger's version; None while none could be compared."""
    compared: int
    """Rows both models scored."""
    agreement_rate: float | None
    """Share of compared rows with the same prediction (regressors: within the tolerance)."""
    mean_absolute_difference: float | None
    """Regressors: mean |served - shadow| over compared rows."""
    positive_rate_shift: float | None
    """Binary classifiers: shadow's minus served's share of rows predicted `classes[1]`."""
    errors: int
    """Rows the served model scored and the challenger did not."""
    example_error: str | None
    """One of the challenger's reasons, when it had errors."""


def aggregates(served: Manifest) -> list[Column]:
    """Observation aggregates for `stats`, over the scored frame of one batch."""
    prediction, shadow = F.col("prediction"), F.col(PREDICTION)
    scored = F.col("error").isNull()
    both = scored & shadow.isNotNull()
    if served.is_classifier:
        agree = prediction == shadow
    else:
        bound = F.greatest(F.abs(prediction), F.lit(1.0)) * RELATIVE_TOLERANCE
        agree = F.abs(prediction - shadow) <= bound
    columns = [
        F.count_if(both).alias("shadow_compared"),
        F.count_if(both & agree).alias("shadow_agreed"),
        F.count_if(scored & F.col(ERROR).isNotNull()).alias("shadow_errors"),
        F.max(F.when(scored, F.col(ERROR))).alias("shadow_example_error"),
    ]
    if not served.is_classifier:
        difference = F.when(both, F.abs(prediction - shadow))
        columns.append(F.sum(difference).alias("shadow_absolute_difference"))
    elif served.task == "binary" and served.classes:
        positive = F.lit(served.classes[1])
        columns.append(F.count_if(both & (prediction == positive)).alias("shadow_served_positive"))
        columns.append(F.count_if(both & (shadow == positive)).alias("shadow_positive"))
    return columns


def stats(observed: dict[str, Any], shadow: ServingModel | None) -> ShadowStats:
    """`ShadowStats` from the observed `aggregates` of a batch scored with `shadow`."""
    compared = int(observed["shadow_compared"])
    shift = None
    if "shadow_positive" in observed:
        shift = _ratio(observed["shadow_positive"] - observed["shadow_served_positive"], compared)
    return ShadowStats(
        model_version=shadow.version if shadow else None,
        compared=compared,
        agreement_rate=_ratio(observed["shadow_agreed"], compared),
        mean_absolute_difference=_ratio(observed.get("shadow_absolute_difference"), compared),
        positive_rate_shift=shift,
        errors=int(observed["shadow_errors"]),
        example_error=observed["shadow_example_error"],
    )


def _ratio(part: float | None, whole: int) -> float | None:
    return None if part is None or not whole else part / whole
