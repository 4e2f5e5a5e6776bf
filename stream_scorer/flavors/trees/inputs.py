"""Feature columns -> what a booster takes: numbers as float64 with NaN for missing, and
each categorical string as its training code (its index among the categories the file
records), so a string maps to the code it had in training; an unseen or missing one is NaN,
which the trees route as missing."""

import numpy as np
import pandas as pd


def encoded(frame: pd.DataFrame, categories: dict[str, list[str]]) -> np.ndarray:
    """(n, features) float64 of `frame`'s columns, categorical ones as codes."""
    if not categories:
        return frame.to_numpy(dtype=np.float64, na_value=np.nan)
    names = list(frame.columns)
    numeric = [j for j, name in enumerate(names) if name not in categories]
    matrix = np.empty((len(frame), len(names)))
    if numeric:  # one conversion of every numeric column: per column costs a frame lookup each
        block = frame.iloc[:, numeric].to_numpy(dtype=np.float64, na_value=np.nan)
        matrix[:, numeric] = block
    for j, name in enumerate(names):
        if name in categories:
            codes = pd.Categorical(frame.iloc[:, j], categories=categories[name]).codes
            matrix[:, j] = np.where(codes < 0, np.nan, codes)
    return matrix
