"""A model version's baseline: how its reference rows and their predictions were distributed.

`Baseline` is the `baseline.json` stored beside a version's artefact (`ModelStore.add`) and
copied to `<history>/baselines/<version>.json` for the report. Per feature, a `Distribution`:
numbers in quantile bins (`edges`: the k-1 inner edges; the first and last bins are open),
strings and booleans by category (the last bin is "other"); the share of nulls; for numbers
the range seen. The prediction gets one too: a regressor's value, a binary classifier's
P(positive class), a multiclass classifier's predicted class.

`Distribution.counts` bins a batch's values (vectorised: `np.searchsorted` on the edges,
category codes) into `[bin counts..., nulls, out of range]`; `psi` compares counts with the
baseline's fractions.
"""

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

BINS = 10
"""Quantile bins of a numeric feature (fewer when its values repeat)."""
MAX_CATEGORIES = 50
"""Most frequent categories a string feature keeps; the rest count as "other"."""
EPSILON = 1e-4
"""Stands in for the share of an empty bin in PSI."""
PREDICTION = "__prediction__"
"""The prediction's key among the features' (history `feature_counts`)."""

Source = Literal["publish", "train", "first_rows"]
NUMERIC_TYPES = ("double", "float", "long", "int")
"""Declared types binned by quantiles; strings and booleans are categories."""


@dataclasses.dataclass(frozen=True)
class Distribution:
    """One column's reference distribution."""

    kind: Literal["numeric", "categorical"]
    fractions: tuple[float, ...]
    """Share of the non-null reference values in each bin."""
    null_rate: float
    edges: tuple[float, ...] = ()
    """Numeric: the inner bin edges, ascending; bin i holds edges[i-1] <= x < edges[i]."""
    min: float | None = None
    max: float | None = None
    categories: tuple[Any, ...] = ()
    """Categorical: the categories of bins 0..n-1; bin n is "other"."""

    @property
    def width(self) -> int:
        """Length of `counts`: the bins, then nulls, then out of range."""
        return len(self.fractions) + 2

    def counts(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """`[count per bin..., nulls, out of range]` (int64) of `values`.

        Out of range: numbers below `min` or above `max`; categories not in `categories`
        (they are also counted in the "other" bin).
        """
        if self.kind == "numeric":
            return self._numeric_counts(values)
        return self._categorical_counts(values)

    def _numeric_counts(self, values: np.ndarray | pd.Series) -> np.ndarray:
        x = _floats(values)
        nulls = int(np.count_nonzero(np.isnan(x)))
        # Bin i holds edges[i-1] <= x < edges[i]: one pass per edge counting x >= it is several
        # times faster than a binary search per value for the ten bins a baseline has.
        at_least = [len(x) - nulls] + [int(np.count_nonzero(x >= e)) for e in self.edges]
        counts = -np.diff([*at_least, 0])
        low = -math.inf if self.min is None else self.min
        high = math.inf if self.max is None else self.max
        out = int(np.count_nonzero(x < low)) + int(np.count_nonzero(x > high))
        return np.array([*counts, nulls, out], dtype=np.int64)

    def _categorical_counts(self, values: np.ndarray | pd.Series) -> np.ndarray:
        series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
        null = series.isna().to_numpy()
        codes = pd.Categorical(series, categories=list(self.categories)).codes
        known = codes[codes >= 0]
        other = int(np.count_nonzero((codes < 0) & ~null))
        counts = np.bincount(known, minlength=len(self.categories))
        return np.concatenate([counts, [other, int(null.sum()), other]]).astype(np.int64)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON shape."""
        if self.kind == "numeric":
            return {
                "kind": "numeric",
                "edges": list(self.edges),
                "fractions": list(self.fractions),
                "null_rate": self.null_rate,
                "min": self.min,
                "max": self.max,
            }
        return {
            "kind": "categorical",
            "categories": list(self.categories),
            "fractions": list(self.fractions),
            "null_rate": self.null_rate,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Distribution":
        """Parse `to_dict`'s shape; KeyError, TypeError or ValueError when it is off."""
        kind = data["kind"]
        fractions = tuple(float(f) for f in data["fractions"])
        if kind == "numeric":
            edges = tuple(float(e) for e in data["edges"])
            if len(fractions) != len(edges) + 1 or list(edges) != sorted(edges):
                msg = f"{len(edges)} edges (ascending) need {len(edges) + 1} fractions"
                raise ValueError(msg)
            low, high = data.get("min"), data.get("max")
            return cls(
                "numeric",
                fractions,
                float(data["null_rate"]),
                edges,
                None if low is None else float(low),
                None if high is None else float(high),
            )
        if kind == "categorical":
            categories = tuple(data["categories"])
            if len(fractions) != len(categories) + 1:
                msg = f"{len(categories)} categories need {len(categories) + 1} fractions"
                raise ValueError(msg)
            return cls("categorical", fractions, float(data["null_rate"]), categories=categories)
        msg = f"kind {kind!r} is not numeric or categorical"
        raise ValueError(msg)


def _floats(values: np.ndarray | pd.Series) -> np.ndarray:
    """`values` as float64, NaN for nulls (numbers as they are, without a copy if float64)."""
    x = np.asarray(values)
    if x.dtype.kind in "fiub":
        return x.astype(np.float64, copy=False)
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64, na_value=np.nan)


def numeric(values: np.ndarray | pd.Series, bins: int = BINS) -> Distribution:
    """The quantile bins of reference `values` (nulls left out of the bins)."""
    x = _floats(values)
    null = np.isnan(x)
    present = x[~null]
    null_rate = float(null.mean()) if len(x) else 0.0
    if not len(present):
        return Distribution("numeric", (1.0,), null_rate)
    quantiles = np.quantile(present, np.linspace(0, 1, bins + 1)[1:-1])
    edges = tuple(float(e) for e in np.unique(quantiles))
    empty = Distribution("numeric", (0.0,) * (len(edges) + 1), null_rate, edges)
    counts = empty.counts(present)[: len(edges) + 1]
    fractions = tuple(float(c) for c in counts / counts.sum())
    low, high = float(present.min()), float(present.max())
    return dataclasses.replace(empty, fractions=fractions, min=low, max=high)


def categorical(values: np.ndarray | pd.Series, limit: int = MAX_CATEGORIES) -> Distribution:
    """The `limit` most frequent categories of reference `values`, and "other"."""
    series = pd.Series(values, dtype=object)
    null = series.isna()
    present = series[~null]
    frequent = present.value_counts().index[:limit]
    categories = tuple(_plain(c) for c in sorted(frequent, key=str))
    null_rate = float(null.mean()) if len(series) else 0.0
    empty = Distribution(
        "categorical", (0.0,) * (len(categories) + 1), null_rate, categories=categories
    )
    counts = empty.counts(present)[: len(categories) + 1]
    total = counts.sum()
    fractions = tuple(float(c) for c in (counts / total if total else counts))
    return dataclasses.replace(empty, fractions=fractions)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value JSON writes."""
    return value.item() if isinstance(value, np.generic) else value


def distribution_of(values: np.ndarray | pd.Series, declared: str) -> Distribution:
    """The reference distribution of a column of `declared` type (`types.FieldType`)."""
    return numeric(values) if declared in NUMERIC_TYPES else categorical(values)


@dataclasses.dataclass(frozen=True)
class Baseline:
    """`baseline.json`: the reference distributions of a model version."""

    rows: int
    source: Source
    features: dict[str, Distribution]
    prediction: Distribution | None

    @property
    def columns(self) -> dict[str, Distribution]:
        """The features', then the prediction's under `PREDICTION`."""
        columns = dict(self.features)
        if self.prediction is not None:
            columns[PREDICTION] = self.prediction
        return columns

    def to_json(self) -> str:
        """The contract's JSON, features in model order (the bytes `ModelStore` hashes)."""
        data = {
            "rows": self.rows,
            "source": self.source,
            "features": {name: d.to_dict() for name, d in self.features.items()},
            "prediction": self.prediction.to_dict() if self.prediction else None,
        }
        return json.dumps(data, indent=1)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Baseline":
        """Parse `to_json`'s text; ValueError naming what is off."""
        try:
            data = json.loads(text)
            prediction = data.get("prediction")
            return cls(
                rows=int(data["rows"]),
                source=data["source"],
                features={n: Distribution.from_dict(d) for n, d in data["features"].items()},
                prediction=Distribution.from_dict(prediction) if prediction else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            msg = f"not a baseline: {exc!r}"
            raise ValueError(msg) from exc


def build(
    rows: pd.DataFrame,
    feature_types: Mapping[str, str],
    source: Source,
    predictions: np.ndarray | pd.Series | None = None,
    prediction_kind: Literal["numeric", "categorical"] = "numeric",
) -> Baseline:
    """The baseline of reference `rows` (a column per feature of `feature_types`) and of the
    model's `predictions` on them (see the module: what stands for the prediction)."""
    features = {name: distribution_of(rows[name], kind) for name, kind in feature_types.items()}
    prediction = None
    if predictions is not None:
        prediction = (
            numeric(predictions) if prediction_kind == "numeric" else categorical(predictions)
        )
    return Baseline(len(rows), source, features, prediction)


def psi(counts: Sequence[int] | np.ndarray, expected: Sequence[float]) -> float | None:
    """Population stability index of bin `counts` against `expected` fractions:
    sum((a - e) * ln(a / e)), empty bins at `EPSILON`; None when `counts` are all zero."""
    observed = np.asarray(counts, dtype=np.float64)
    total = observed.sum()
    if not total:
        return None
    a = np.maximum(observed / total, EPSILON)
    e = np.maximum(np.asarray(expected, dtype=np.float64), EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def prediction_kind(task: str, has_probability: bool) -> Literal["numeric", "categorical"]:
    """How a model's prediction is monitored: a regressor's value and a binary classifier's
    P(positive class) as numbers, other classifiers' predicted class as categories."""
    if task == "regression" or (task == "binary" and has_probability):
        return "numeric"
    return "categorical"


def monitored_prediction(
    task: str, prediction: np.ndarray, probability: np.ndarray | None
) -> np.ndarray:
    """The values `prediction_kind` says are monitored, one per scored row."""
    if task == "binary" and probability is not None:
        return probability
    return prediction
