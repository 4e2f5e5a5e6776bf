"""Serve a CatBoost model: the kind `catboost` of `flavors.base.KINDS`, its booster loaded from
the .cbm model bytes (`load_booster`), which hold no code."""

from stream_scorer.flavors.catboost.booster import load_booster
from stream_scorer.flavors.trees.predictor import loader

load = loader(load_booster)
