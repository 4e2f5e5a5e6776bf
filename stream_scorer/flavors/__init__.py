"""Model kinds: one package per kind, owning both halves, describe at publish and load and
predict at serve. `base` holds the `Predictor` interface and the closed table of kinds."""
