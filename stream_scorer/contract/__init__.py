"""What a model version is, as every layer reads it: manifest, model input, ONNX spec,
family info, input signature. Imports `types` and `errors` only."""
