"""`build_sink`: the sink each configuration gives, and what a Kafka sink takes from the
source: its bootstrap servers with their security settings, or nothing."""

import re

import pytest

from stream_scorer.config.settings import SourceConfig
from stream_scorer.config.sink_settings import ConsoleSinkConfig, KafkaSinkConfig, ParquetSinkConfig
from stream_scorer.errors import ConfigError
from stream_scorer.sinks import ConsoleSink, KafkaSink, ParquetSink, build_sink


def test_parquet_config_gives_parquet_sink_on_its_path():
    sink = build_sink(ParquetSinkConfig(kind="parquet", path="/out/p/"), "/cp/sinks/p", H1)
    assert isinstance(sink, ParquetSink)
    assert sink.path == "/out/p"


def test_console_config_gives_console_sink_with_its_row_count():
    sink = build_sink(ConsoleSinkConfig(kind="console", num_rows=5), "/cp/sinks/c", H1)
    assert isinstance(sink, ConsoleSink)
    assert sink.num_rows == 5


SECURITY = {
    "kafka.security.protocol": "SASL_SSL",
    "kafka.sasl.mechanism": "SCRAM-SHA-512",
    "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
    'required username="alice" password="s3cr3t";',
    "kafka.ssl.truststore.location": "/certs/ca.pem",
}


def _source(**options: str) -> SourceConfig:
    return SourceConfig(options={"subscribe": "t", **options}, start_check_timeout_s=3)


H1 = _source(**{"kafka.bootstrap.servers": "h1:9092"})
SECURED = _source(**{"kafka.bootstrap.servers": "h1:9093", **SECURITY})


def test_kafka_sink_takes_the_source_bootstrap_when_it_names_none():
    sink = build_sink(KafkaSinkConfig(kind="kafka", topic="out"), "/cp/sinks/k", H1)
    assert isinstance(sink, KafkaSink)
    assert sink.markers_dir == "/cp/sinks/k"
    assert sink._config["bootstrap.servers"] == "h1:9092"
    assert sink._config["acks"] == "all"


def test_kafka_sink_keeps_its_own_bootstrap():
    config = KafkaSinkConfig(
        kind="kafka", topic="out", options={"kafka.bootstrap.servers": "h2:9092", "kafka.acks": 1}
    )
    sink = build_sink(config, "/cp/sinks/k", H1)
    assert sink._config["bootstrap.servers"] == "h2:9092"
    assert sink._config["acks"] == "1"


def test_kafka_sink_taking_the_source_servers_takes_its_security_settings():
    sink = build_sink(KafkaSinkConfig(kind="kafka", topic="out"), "/cp/sinks/k", SECURED)
    assert sink._connection == {"kafka.bootstrap.servers": "h1:9093", **SECURITY}
    assert sink._config["security.protocol"] == "SASL_SSL"
    assert (sink._config["sasl.username"], sink._config["ssl.ca.location"]) == (
        "alice",
        "/certs/ca.pem",
    )
    assert (sink._origin, sink._timeout_s) == ("source.options", 3)


def test_kafka_sink_own_options_win_over_the_inherited_ones():
    own = {"kafka.linger.ms": "20", "kafka.ssl.truststore.location": "/certs/sink-ca.pem"}
    config = KafkaSinkConfig(kind="kafka", topic="out", options=own)
    sink = build_sink(config, "/cp/sinks/k", SECURED)
    assert sink._config["ssl.ca.location"] == "/certs/sink-ca.pem"
    assert (sink._config["linger.ms"], sink._config["sasl.mechanism"]) == ("20", "SCRAM-SHA-512")


def test_kafka_sink_naming_other_servers_takes_none_of_the_source_security():
    config = KafkaSinkConfig(kind="kafka", topic="out", options={"kafka.bootstrap.servers": "h2:1"})
    sink = build_sink(config, "/cp/sinks/k", SECURED, "sinks[1]")
    assert sink._connection == {"kafka.bootstrap.servers": "h2:1"}
    assert not {"security.protocol", "sasl.mechanism", "ssl.ca.location"} & sink._config.keys()
    assert sink._origin == "sinks[1].options"


def test_kafka_sink_without_any_bootstrap_is_refused():
    with pytest.raises(ConfigError, match=re.escape("'kafka.bootstrap.servers' is required")):
        build_sink(KafkaSinkConfig(kind="kafka", topic="out"), "/cp/sinks/k", None)


def test_kafka_sink_refuses_serializer_options():
    options = {"kafka.bootstrap.servers": "h:1", "kafka.value.serializer": "x"}
    with pytest.raises(ConfigError, match=re.escape("kafka.value.serializer")):
        KafkaSink("out", options, "/cp/sinks/k")
