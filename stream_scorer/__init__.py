"""stream-scorer: score Kafka records with a scikit-learn model on Spark Structured Streaming."""

__version__ = "0.1.0"
