"""An XGBoost booster loaded from its JSON or UBJSON model, and what the model records."""

import json
from typing import Any

import numpy as np
import pandas as pd

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.trees.booster import Booster, BoosterInfo, library, refused_load
from stream_scorer.flavors.trees.inputs import encoded

PROBABILITIES = {"binary:logistic": 2, "multi:softprob": 0}
"""Objectives whose predict gives class probabilities -> classes (0: the model's num_class)."""
MARGINS = {"binary:logitraw": 2, "multi:softmax": 0}
"""Objectives whose margins give the probabilities (a sigmoid or a softmax)."""
REFUSED = {"binary:hinge": "it predicts 0 or 1 with no probability"}
"""Objectives served neither as classifiers nor as regressors, and why."""


class XGBoostBooster(Booster):
    """`xgboost.Booster`, predicting with `inplace_predict` (thread-safe) on float64 input
    whose categorical columns hold training codes."""

    def __init__(self, booster: Any) -> None:
        self.booster = booster
        learner = json.loads(booster.save_config())["learner"]
        self.objective: str = learner["objective"]["name"]
        self.params: dict[str, str] = learner["learner_model_param"]
        self.margin = self.objective in MARGINS
        self.categories = _categories(booster)

    def info(self) -> BoosterInfo:
        """Feature names and types, objective, classes and categories the model records."""
        if self.objective in REFUSED:
            msg = f"objective {self.objective} is not supported: {REFUSED[self.objective]}"
            raise ModelRejectedError(msg)
        if int(self.params.get("num_target", "1")) > 1:
            msg = f"the booster has {self.params['num_target']} targets; only one is supported"
            raise ModelRejectedError(msg)
        count = self.booster.num_features()
        types = self.booster.feature_types or ["float"] * count
        fixed = PROBABILITIES.get(self.objective, MARGINS.get(self.objective))
        num_class = 0 if fixed is None else fixed or int(self.params.get("num_class", "0"))
        rounds = self.booster.num_boosted_rounds()
        return BoosterInfo(
            feature_names=self.booster.feature_names,
            categorical=[kind == "c" for kind in types],
            objective=self.objective,
            num_class=num_class,
            description=f"XGBoost booster, {self.objective}, {rounds} rounds",
            categories=self.categories,
            margin=self.margin,
        )

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Probabilities (or margins) of a classifier, values of a regressor."""
        kind = "margin" if self.margin else "value"
        matrix = encoded(frame, self.categories)
        return np.asarray(self.booster.inplace_predict(matrix, predict_type=kind))


def load_booster(payload: bytes, threads: int) -> XGBoostBooster:
    """Load a JSON or UBJSON model (XGBoost tells them apart) to predict with `threads`.

    Raises
    ------
    ModelRejectedError
        If xgboost is missing or cannot load the bytes (truncated, edited, not a model).
    """
    xgboost = library("xgboost")
    try:
        booster = xgboost.Booster(params={"nthread": threads})
        booster.load_model(bytearray(payload))
        booster.set_param("nthread", threads)
        return XGBoostBooster(booster)
    except (xgboost.core.XGBoostError, KeyError, ValueError) as exc:
        raise refused_load("xgboost", exc) from exc


def _categories(booster: Any) -> dict[str, list[str]]:
    """Categorical feature -> the categories the model recorded at training (XGBoost >= 3.1).

    Raises
    ------
    ModelRejectedError
        If the model splits on categories but records none of them (older XGBoost).
    """
    types = booster.feature_types or []
    names = booster.feature_names or [f"f{i}" for i in range(len(types))]
    wanted = [name for name, kind in zip(names, types, strict=True) if kind == "c"]
    if not wanted:
        return {}
    recorded = booster.get_categories(export_to_arrow=True)
    found = dict(recorded.to_arrow()) if recorded is not None else {}
    lacking = [name for name in wanted if found.get(name) is None]
    if lacking:
        msg = (
            f"categorical features {lacking} record no categories, so strings cannot be mapped "
            "to their training codes; train and save the model with XGBoost 3.1 or later"
        )
        raise ModelRejectedError(msg)
    return {name: [str(c) for c in found[name].to_pylist()] for name in wanted}
