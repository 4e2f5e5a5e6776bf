"""The one place that turns typed feature columns into what a model's `predict` expects.

Publish (`describe`), verification (`verify`) and the scoring UDF all call `model_input`,
so a model sees the same input layout at publish time, at load time and per Arrow batch.
"""

from typing import Literal

import numpy as np
import pandas as pd

Layout = Literal["frame", "array", "column"]
"""'frame': DataFrame with the feature names as columns (models fitted on DataFrames).
'array': 2-D float64 ndarray (numeric models fitted on arrays, which warn on named input).
'column': 1-D object ndarray of str (a text Pipeline whose first step is a vectorizer)."""

LAYOUT_KEY = "input_layout"
"""Key of the layout in `Manifest.extra`, recorded at publish time."""

NUMERIC_TYPES = frozenset({"double", "float", "long", "int", "boolean"})
"""Feature types fed to models as float64."""


def default_layout(feature_types: dict[str, str]) -> Layout:
    """Layout when the model does not say: one string feature is a column, else a frame."""
    if len(feature_types) == 1 and next(iter(feature_types.values())) == "string":
        return "column"
    return "frame"


def model_input(
    frame: pd.DataFrame,
    feature_names: list[str],
    feature_types: dict[str, str],
    layout: Layout | None = None,
) -> object:
    """Select and convert the feature columns of `frame` for `model.predict`.

    Parameters
    ----------
    frame
        Rows to score; may hold more columns than the features (they are ignored).
    feature_names
        Model input columns, in order.
    feature_types
        Feature name -> Spark SQL type name.
    layout
        From the manifest (`manifest.extra["input_layout"]`); None means `default_layout`.

    Returns
    -------
    object
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
    if all(feature_types[name] in NUMERIC_TYPES for name in feature_names):
        if exact and all(dtype == np.float64 for dtype in frame.dtypes):
            return frame
        values = frame[feature_names].to_numpy(dtype=np.float64)
        return pd.DataFrame(values, columns=feature_names, copy=False)
    columns = {
        name: frame[name].astype(np.float64)
        if feature_types[name] in NUMERIC_TYPES
        else frame[name]
        for name in feature_names
    }
    return pd.DataFrame(columns, copy=False)
