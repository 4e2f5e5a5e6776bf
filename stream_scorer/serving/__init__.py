"""Which model version serves the next micro-batch: the driver-side registry (hot reload)
and `ServingModel`, the version as the scoring stage receives it."""
