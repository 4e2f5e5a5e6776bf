"""Predictors: what turns a batch of decoded inputs into predictions, one module per model kind.

`base.load_predictor` picks the kind a manifest names; every kind answers the same
`Predictor` interface, so the scoring UDF, verification and publish never branch on it.
"""
