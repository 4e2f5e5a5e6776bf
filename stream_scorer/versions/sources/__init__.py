"""Model sources: where the versions a scorer serves come from (our store, MLflow)."""
