"""SASL/SSL options reach every Kafka client we build: source (both readers and the driver's
metadata and start-time checks), the Kafka sink's producer and `produce`.

Tansu 0.6 (the embedded broker) has SCRAM users (`tansu user create`), but a broker started
with `--authentication` refuses the unauthenticated request that creates the first user and
keeps users in memory only, so no login can succeed on it (and it enables no PLAIN); these
tests assert the client settings instead. That the settings reach real clients is shown by
their failures against real listeners: tests/integration/test_secured_clusters.py.
"""

from typing import Any

import pyarrow as pa
import pytest

from stream_scorer.config.loader import parse_config
from stream_scorer.devtools import producer
from stream_scorer.errors import SinkError
from stream_scorer.kafka.client_config import confluent_config
from stream_scorer.kafka.source_options import parse_options
from stream_scorer.sinks.kafka import KafkaSink, send_partition
from stream_scorer.sinks.kafka_exactly_once import TransactionalKafkaSink
from stream_scorer.sinks.kafka_transactions import Transactions
from stream_scorer.sources import metadata, topic_check
from stream_scorer.sources.metadata import consumer_settings
from stream_scorer.sources.offsets import OffsetRange
from stream_scorer.sources.readers import kafka_python
from stream_scorer.sources.readers.confluent import ConfluentReader
from stream_scorer.sources.readers.kafka_python import KafkaPythonReader

OPTIONS = {
    "kafka.bootstrap.servers": "b1:9093,b2:9093",
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "SCRAM-SHA-512",
    "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
    'required username="alice" password="s3cr3t";',
    "kafka.ssl.truststore.location": "/certs/ca.pem",
    "kafka.ssl.truststore.type": "PEM",
    "kafka.ssl.endpoint.identification.algorithm": "https",
}
KAFKA_PYTHON = {
    "bootstrap_servers": ["b1:9093", "b2:9093"],
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_plain_username": "alice",
    "sasl_plain_password": "s3cr3t",
    "ssl_cafile": "/certs/ca.pem",
    "ssl_check_hostname": True,
}
LIBRDKAFKA = {
    "bootstrap.servers": "b1:9093,b2:9093",
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "alice",
    "sasl.password": "s3cr3t",
    "ssl.ca.location": "/certs/ca.pem",
    "ssl.endpoint.identification.algorithm": "https",
}
SOURCE = {**OPTIONS, "subscribe": "features"}


class _Built(Exception):
    """Raised by a fake client once it has recorded how it was built."""


@pytest.fixture
def built(monkeypatch) -> dict[str, Any]:
    """Fake Kafka client classes everywhere we build one; `built[name]` = its settings."""
    seen: dict[str, Any] = {}

    def fake(name: str, real: Any = None):
        def client(*args: Any, **kwargs: Any):
            seen[name] = args[0] if args else kwargs
            raise _Built

        client.DEFAULT_CONFIG = getattr(real, "DEFAULT_CONFIG", {})  # read by client_config
        return client

    monkeypatch.setattr(kafka_python, "KafkaConsumer", fake("reader"))
    monkeypatch.setattr(metadata, "KafkaConsumer", fake("driver-metadata"))
    monkeypatch.setattr(producer, "KafkaProducer", fake("produce"))
    monkeypatch.setattr(producer, "KafkaAdminClient", fake("admin"))
    monkeypatch.setattr("confluent_kafka.Consumer", fake("confluent-reader"))
    connecting = fake("sink")  # the option check at load builds one without servers: let it be
    monkeypatch.setattr(
        "confluent_kafka.Producer",
        lambda config: connecting(config) if "bootstrap.servers" in config else object(),
    )
    return seen


def _subset(settings: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    return {key: settings.get(key) for key in expected}


def test_driver_metadata_consumer_gets_sasl_and_ssl_settings():
    assert _subset(consumer_settings(OPTIONS), KAFKA_PYTHON) == KAFKA_PYTHON


def test_kafka_python_reader_gets_sasl_and_ssl_settings(built):
    with pytest.raises(_Built):
        next(KafkaPythonReader(parse_options(SOURCE), None).read(OffsetRange("features", 0, 0, 1)))
    assert _subset(built["reader"], KAFKA_PYTHON) == KAFKA_PYTHON


def test_confluent_reader_gets_sasl_and_ssl_settings(built):
    options = parse_options({**SOURCE, "kafkaClient": "confluent-kafka"})
    with pytest.raises(_Built):
        next(ConfluentReader(options, None).read(OffsetRange("features", 0, 0, 1)))
    assert _subset(built["confluent-reader"], LIBRDKAFKA) == LIBRDKAFKA


def test_start_time_topic_check_gets_sasl_and_ssl_settings(built):
    config = parse_config(
        {
            "source": {"options": SOURCE},
            "features": {"schema": {"f0": "double"}},
            "model": {"store": "m"},
            "checkpoint": "c",
            "sinks": [{"kind": "console"}],
            "dead_letter": {"kind": "console"},
        }
    )
    with pytest.raises(_Built):
        topic_check.check_source_topics(config.source)
    assert _subset(built["driver-metadata"], KAFKA_PYTHON) == KAFKA_PYTHON
    assert built["driver-metadata"]["allow_auto_create_topics"] is False


def test_kafka_sink_producer_gets_sasl_and_ssl_settings(built, tmp_path):
    sink = KafkaSink("predictions", OPTIONS, str(tmp_path))
    with pytest.raises(_Built):
        next(send_partition(iter([]), sink.sends(batch_id=0)))
    assert _subset(built["sink"], LIBRDKAFKA) == LIBRDKAFKA
    assert built["sink"]["acks"] == "all"


def test_exactly_once_sink_producer_gets_sasl_and_ssl_settings(built, tmp_path):
    sink = TransactionalKafkaSink("predictions", OPTIONS, str(tmp_path), str(tmp_path / "cp"))
    sends = Transactions(sink.topic, sink._config, confluent_config(sink._connection), "g", 0)
    rows = pa.RecordBatch.from_pydict({"topic": ["features"], "partition": [0], "offset": [5]})
    with pytest.raises(SinkError, match="cannot start the transaction 'g-features-0'"):
        sends.open().write(rows)
    assert _subset(built["sink"], LIBRDKAFKA) == LIBRDKAFKA
    assert built["sink"]["transactional.id"] == "g-features-0"


def test_produce_command_gets_sasl_and_ssl_settings(built):
    with pytest.raises(_Built):
        producer.produce(OPTIONS, "features", iter([]), total=0, progress=False)
    assert _subset(built["produce"], KAFKA_PYTHON) == KAFKA_PYTHON


def test_topic_creation_gets_sasl_and_ssl_settings(built):
    with pytest.raises(_Built):
        producer.ensure_topic(OPTIONS, "features", 3)
    assert _subset(built["admin"], KAFKA_PYTHON) == KAFKA_PYTHON
