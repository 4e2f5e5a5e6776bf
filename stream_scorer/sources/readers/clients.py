"""The range reader of each `kafkaClient`: the executors' Kafka library."""

from stream_scorer.kafka.source_options import KafkaClient
from stream_scorer.sources.readers.base import RangeReader
from stream_scorer.sources.readers.confluent import ConfluentReader
from stream_scorer.sources.readers.kafka_python import KafkaPythonReader

READERS: dict[KafkaClient, type[RangeReader]] = {
    "confluent-kafka": ConfluentReader,
    "kafka-python": KafkaPythonReader,
}
"""The range reader of each `kafkaClient`."""
