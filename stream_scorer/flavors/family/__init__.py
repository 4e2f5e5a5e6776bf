"""Per-key model families: one scikit-learn model per key served as one version; build,
train on Spark (`applyInPandas`), the artefact and the predictor."""
