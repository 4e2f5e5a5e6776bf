"""Kafka sources: the jar-free `python-kafka` data source and Spark's own `spark-kafka`.

Both produce Spark's Kafka source schema and take Spark's Kafka option names;
`read_stream(spark, source_config)` picks one from the config.
"""

from stream_scorer.sources.factory import read_stream, spark_kafka_available
from stream_scorer.sources.python_kafka import KafkaDataSource, KafkaStreamReader

__all__ = ["KafkaDataSource", "KafkaStreamReader", "read_stream", "spark_kafka_available"]
