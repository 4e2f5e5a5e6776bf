"""A CatBoost model loaded from its `.cbm` file, and what the file records."""

import re
from typing import Any

import numpy as np
import pandas as pd

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.trees.booster import Booster, BoosterInfo, library, refused_load

CLASSIFIERS = ("Logloss", "CrossEntropy", "MultiClass", "MultiClassOneVsAll")
EXPONENT = ("Poisson", "Tweedie")
"""Regression losses whose values are the exponent of the raw formula (as
`CatBoostRegressor.predict` gives them)."""
MULTI_OUTPUT = ("MultiRMSE", "MultiLogloss", "MultiCrossEntropy", "RMSEWithUncertainty")
_UNNAMED = re.compile(r"\d+")


class CatBoostBooster(Booster):
    """`catboost.CatBoost` fed a frame whose categorical columns are strings (CatBoost hashes
    them as in training) and numeric columns float64 with NaN missing."""

    def __init__(self, model: Any, threads: int) -> None:
        self.model = model
        self.threads = threads
        self.loss = str(model.get_all_params().get("loss_function", "")).split(":")[0]
        self.cat_indices = set(model.get_cat_feature_indices())
        if self.loss in CLASSIFIERS:
            self.prediction_type = "Probability"
        else:
            self.prediction_type = "Exponent" if self.loss in EXPONENT else "RawFormulaVal"

    def info(self) -> BoosterInfo:
        """Feature names, which are categorical, loss and class labels the model records."""
        others = list(self.model.get_text_feature_indices())
        others += list(self.model.get_embedding_feature_indices())
        if others:
            msg = f"text or embedding features (indices {others}) are not supported"
            raise ModelRejectedError(msg)
        if self.loss in MULTI_OUTPUT:
            raise ModelRejectedError(f"loss {self.loss} has several outputs; one is supported")
        names = list(self.model.feature_names_)
        classes = None
        if self.loss in CLASSIFIERS:
            classes = np.asarray(self.model.classes_).tolist()
        unnamed = all(_UNNAMED.fullmatch(n) for n in names)
        return BoosterInfo(
            feature_names=None if unnamed else names,
            categorical=[i in self.cat_indices for i in range(len(names))],
            objective=self.loss,
            num_class=len(classes or ()),
            description=f"CatBoost model, {self.loss}, {self.model.tree_count_} trees",
            classes=classes,
            categories={names[i]: [] for i in sorted(self.cat_indices)},
            nullable_categories=False,
        )

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """P(second class) (binary), class probabilities (multiclass) or values."""
        scores = self.model.predict(
            frame, prediction_type=self.prediction_type, thread_count=self.threads
        )
        scores = np.asarray(scores, dtype=np.float64)
        return scores[:, 1] if scores.ndim == 2 and scores.shape[1] == 2 else scores


def load_booster(payload: bytes, threads: int) -> CatBoostBooster:
    """Load a `.cbm` model; CatBoost verifies its flatbuffers structure first.

    Raises
    ------
    ModelRejectedError
        If catboost is missing or the bytes are not a model it can load.
    """
    catboost = library("catboost")
    try:
        model = catboost.CatBoost()
        model.load_model(blob=payload, format="cbm")
        return CatBoostBooster(model, threads)
    except catboost.CatBoostError as exc:
        raise refused_load("catboost", exc) from exc
