"""Where model versions come from: the store (storage only), publish, signing, verification,
and the model sources the registry reads (our store, MLflow)."""
