"""Feature columns -> what a booster takes: numbers as float64 with NaN for missing, and
each categorical string as its training code (its index among the categories the file
records), so a string maps to the code it had in training; an unseen or missing one is NaN,
which the trees route as missing."""

import numpy as np
import pandas as pd


def encoded(frame: pd.DataFrame, categories: dict[str, list[str]]) -> np.ndarray:
    """(n, features) float64 of `frame`'s columns, categorical ones as codes."""
    columns = []
    for name in frame.columns:
        column = frame[name]
        if name in categories:
            codes = pd.Categorical(column, categories=categories[name]).codes
            columns.append(np.where(codes < 0, np.nan, codes.astype(np.float64)))
        else:
            columns.append(column.to_numpy(dtype=np.float64, na_value=np.nan))
    if not columns:
        return np.zeros((len(frame), 0))
    return np.column_stack(columns)
