"""Model monitoring: the batch history, drift against a baseline, the report."""
