"""What tests and benchmarks share: fault injection and test models."""
