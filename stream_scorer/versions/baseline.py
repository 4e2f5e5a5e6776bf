"""A version's baseline at publish: its reference rows, and the model's predictions on them.

`model publish --baseline DATA` and `model train` (from its training rows) call
`reference_baseline` with the described version before the store adds it; the store then
keeps `baseline.json` beside the artefact, its sha256 in the (signed) manifest
(`ModelStore.add`, `ModelStore.baseline`).
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ConfigError
from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import load_predictor
from stream_scorer.monitoring.baseline import (
    NUMERIC_TYPES,
    Baseline,
    Source,
    build,
    monitored_prediction,
    prediction_kind,
)
from stream_scorer.types import TYPES

MAX_ROWS = 100_000
"""Reference rows a baseline is built from at most (a seeded random sample of larger data)."""


def read_reference(path: str | Path) -> pd.DataFrame:
    """The rows of a Parquet or CSV file (by its name; Parquet otherwise), at most `MAX_ROWS`.

    Raises
    ------
    ConfigError
        If the file cannot be read.
    """
    path = Path(path)
    try:
        csv = ".csv" in path.name.lower()
        rows = pd.read_csv(path) if csv else pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        msg = f"{path}: cannot read the baseline rows (Parquet or CSV): {exc}"
        raise ConfigError(msg) from exc
    if len(rows) > MAX_ROWS:
        rows = rows.sample(MAX_ROWS, random_state=0)
    return rows.reset_index(drop=True)


def reference_baseline(
    rows: pd.DataFrame,
    manifest: Manifest,
    artefact: bytes,
    source: Source,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
    route_by: str | None = None,
) -> Baseline:
    """The baseline of `rows` for the described version: the feature columns as the scorer
    decodes them, and the predictions of the model loaded from `artefact` (a family's routed
    by the `route_by` column). Rows the model cannot score count for the features only.

    Raises
    ------
    ConfigError
        If `rows` are empty or lack a feature's column.
    ModelRejectedError
        If the model does not load (the publish checked it did).
    """
    missing = [name for name in manifest.feature_names if name not in rows.columns]
    if missing or not len(rows):
        msg = f"the baseline rows lack the feature columns {missing}" if missing else ""
        raise ConfigError(msg or "the baseline rows are empty")
    frame = pd.DataFrame(
        {name: _typed(rows[name], manifest.feature_types[name]) for name in manifest.feature_names}
    )
    inputs = frame
    if route_by is not None:
        inputs = frame.assign(**{ROUTE_KEY: rows[route_by].astype(str).to_numpy()})
    predictor = load_predictor(artefact, manifest, trusted_types, unsafe_load)
    predicted = predictor.predict(inputs)
    ok = np.array([error is None for error in predicted.errors], dtype=bool)
    probability = predicted.probability[ok] if predicted.probability is not None else None
    values = monitored_prediction(manifest.task, predicted.prediction[ok], probability)
    kind = prediction_kind(manifest.task, predicted.probability is not None)
    return build(frame, dict(manifest.feature_types), source, values, kind)


def _typed(column: pd.Series, declared: str) -> pd.Series:
    """A reference column as the decoder gives it: numbers as float64 (NaN for nulls),
    strings as objects (None for nulls), booleans as they are."""
    if declared in NUMERIC_TYPES:
        return pd.to_numeric(column, errors="coerce").astype(np.float64)
    if TYPES[declared].python is str:  # type: ignore[index]
        return column.astype(object).where(column.notna(), None)
    return column
