"""Serve a XGBoost model: the kind `xgboost` of `flavors.base.KINDS`, its booster loaded from
the JSON or UBJSON model bytes (`load_booster`), which hold no code."""

from stream_scorer.flavors.trees.predictor import loader
from stream_scorer.flavors.xgboost.booster import load_booster

load = loader(load_booster)
