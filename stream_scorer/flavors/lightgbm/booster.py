"""A LightGBM booster loaded from its text model, and what the model records."""

from typing import Any

import numpy as np
import pandas as pd

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.lightgbm.text_model import categorical, feature_names, header_of
from stream_scorer.flavors.trees.booster import Booster, BoosterInfo, library, refused_load
from stream_scorer.flavors.trees.inputs import encoded

CLASSIFIERS = ("binary", "multiclass", "multiclassova")
REGRESSORS = (
    "regression", "regression_l1", "huber", "fair", "poisson", "quantile", "mape", "gamma",
    "tweedie", "cross_entropy", "cross_entropy_lambda", "lambdarank", "rank_xendcg",
)  # fmt: skip
"""Objectives whose predict gives one value per row (rankers' scores too)."""


class LightGBMBooster(Booster):
    """`lightgbm.Booster` predicting on float64 input whose categorical columns hold the
    codes pandas gave them in training (`pandas_categorical` in the file)."""

    def __init__(self, booster: Any, header: dict[str, str], threads: int) -> None:
        self.booster = booster
        self.header = header
        self.threads = threads
        self.objective = header.get("objective", "").split(" ")[0]
        names = header.get("feature_names", "").split()
        cats = [n for n, c in zip(names, categorical(header), strict=False) if c]
        recorded = booster.pandas_categorical or []
        self.categories = {
            name: [str(c) for c in values] for name, values in zip(cats, recorded, strict=False)
        }

    def info(self) -> BoosterInfo:
        """Feature names, which are categorical, objective and classes the model records."""
        if self.objective not in CLASSIFIERS + REGRESSORS:
            msg = (
                f"objective {self.objective or '(none: a custom objective)'} is not supported; "
                f"known: {', '.join(CLASSIFIERS + REGRESSORS)}"
            )
            raise ModelRejectedError(msg)
        num_class = int(self.header.get("num_class", "1"))
        if self.objective == "binary":
            num_class = 2
        elif self.objective in REGRESSORS:
            num_class = 0
        names = self.header.get("feature_names", "").split()
        return BoosterInfo(
            feature_names=feature_names(self.header),
            categorical=[name in self.categories for name in names],
            objective=self.objective,
            num_class=num_class,
            description=f"LightGBM booster, {self.objective}, {self.booster.num_trees()} trees",
            categories=self.categories,
        )

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """P(second class) (binary), class probabilities (multiclass) or values."""
        matrix = encoded(frame, self.categories)
        return np.asarray(self.booster.predict(matrix, num_threads=self.threads))


def load_booster(payload: bytes, threads: int) -> LightGBMBooster:
    """Load a text model, once its layout holds (`text_model.header_of`).

    Raises
    ------
    ModelRejectedError
        If lightgbm is missing, or the bytes are not a whole text model.
    """
    lightgbm = library("lightgbm")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelRejectedError(f"a LightGBM text model is UTF-8 text: {exc}") from exc
    header = header_of(text)
    try:
        booster = lightgbm.Booster(model_str=text)
    except (lightgbm.basic.LightGBMError, ValueError) as exc:
        raise refused_load("lightgbm", exc) from exc
    return LightGBMBooster(booster, header, threads)
