"""The one place that turns typed feature columns into what a model's `predict` expects.

Publish (`describe`), verification (`verify`) and the scoring UDF all call `model_input`,
so a model sees the same input layout at publish time, at load time and per Arrow batch.
"""

from typing import Literal, TypeAlias

import numpy as np
import pandas as pd

from stream_scorer.types import TYPES, FieldType

Layout = Literal["frame", "array", "column"]
"""'frame': DataFrame with the feature names as columns (models fitted on DataFrames).
'array': 2-D float64 ndarray (numeric models fitted on arrays, which warn on named input).
'column': 1-D object ndarray of str (a text Pipeline whose first step is a vectorizer)."""

ModelInput: TypeAlias = pd.DataFrame | np.ndarray
"""What `model_input` gives a model's `predict`."""


def default_layout(feature_types: dict[str, FieldType]) -> Layout:
    """Layout when the model does not say: one text feature is a column, else a frame."""
    if len(feature_types) == 1 and not TYPES[next(iter(feature_types.values()))].numeric:
        return "column"
    return "frame"


def model_input(
    frame: pd.DataFrame,
    feature_names: list[str],
    feature_types: dict[str, FieldType],
    layout: Layout | None = None,
) -> ModelInput:
    """Select and convert the feature columns of `frame` for `model.predict`.

    Parameters
    ----------
    frame
        Rows to score; may hold more columns than the features (they are ignored).
    feature_names
        Model input columns, in order.
    feature_types
        Feature name -> declared type name.
    layout
        From the manifest (`Manifest.input_layout`); None means `default_layout`.

    Returns
    -------
    ModelInput
        A DataFrame (numeric columns float64, others unchanged), a 2-D float64 ndarray, or a
        1-D object ndarray of str. `frame` is never modified.

    Raises
    ------
    KeyError
        If a feature column is missing from `frame`.
    """
    layout = layout or default_layout(feature_types)
    if layout == "column":
        return frame[feature_names[0]].to_numpy(dtype=object)
    exact = list(frame.columns) == list(feature_names)  # skip a column-selection copy
    if layout == "array":
        return (frame if exact else frame[feature_names]).to_numpy(dtype=np.float64)
    numeric = {name: TYPES[feature_types[name]].numeric for name in feature_names}
    if all(numeric.values()):
        if exact and all(dtype == np.float64 for dtype in frame.dtypes):
            return frame
        values = frame[feature_names].to_numpy(dtype=np.float64)
        return pd.DataFrame(values, columns=feature_names, copy=False)
    columns = {
        name: frame[name].astype(np.float64) if numeric[name] else frame[name]
        for name in feature_names
    }
    return pd.DataFrame(columns, copy=False)
