"""Describe a CatBoost model (`.cbm`) as a `Manifest` at publish."""

from stream_scorer.flavors.catboost.booster import load_booster
from stream_scorer.flavors.trees.describe import describer

describe_catboost = describer("catboost", load_booster, lambda payload: "catboost-cbm")
