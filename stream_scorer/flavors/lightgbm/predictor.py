"""Serve a LightGBM model: the kind `lightgbm` of `flavors.base.KINDS`, its booster loaded from
the text model bytes (`load_booster`), which hold no code."""

from stream_scorer.flavors.lightgbm.booster import load_booster
from stream_scorer.flavors.trees.predictor import loader

load = loader(load_booster)
