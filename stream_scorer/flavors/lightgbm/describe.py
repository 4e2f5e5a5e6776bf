"""Describe a LightGBM text model as a `Manifest` at publish."""

from stream_scorer.flavors.lightgbm.booster import load_booster
from stream_scorer.flavors.trees.describe import describer

describe_lightgbm = describer("lightgbm", load_booster, lambda payload: "lightgbm-text")
