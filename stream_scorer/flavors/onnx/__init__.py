"""ONNX graphs: describe against the configured features, synthetic canary inputs, the
predictor over ONNX Runtime and its score outputs."""
