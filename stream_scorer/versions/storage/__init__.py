"""Where a model store keeps its bytes: a local directory, or an object store (`open_storage`)."""
