"""Executor-side readers of exact offset ranges, one per Kafka client, yielding Arrow batches."""
