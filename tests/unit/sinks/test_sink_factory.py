"""`build_sink`: the sink each configuration gives, and the Kafka bootstrap fallback."""

import re

import pytest

from stream_scorer.config.settings import ConsoleSinkConfig, KafkaSinkConfig, ParquetSinkConfig
from stream_scorer.errors import ConfigError
from stream_scorer.sinks import ConsoleSink, KafkaSink, ParquetSink, build_sink


def test_parquet_config_gives_parquet_sink_on_its_path():
    sink = build_sink(ParquetSinkConfig(kind="parquet", path="/out/p/"), "/cp/sinks/p", None)
    assert isinstance(sink, ParquetSink)
    assert sink.path == "/out/p"


def test_console_config_gives_console_sink_with_its_row_count():
    sink = build_sink(ConsoleSinkConfig(kind="console", num_rows=5), "/cp/sinks/c", None)
    assert isinstance(sink, ConsoleSink)
    assert sink.num_rows == 5


def test_kafka_sink_takes_the_source_bootstrap_when_it_names_none():
    sink = build_sink(KafkaSinkConfig(kind="kafka", topic="out"), "/cp/sinks/k", "h1:9092")
    assert isinstance(sink, KafkaSink)
    assert sink.markers_dir == "/cp/sinks/k"
    assert sink._config["bootstrap_servers"] == ["h1:9092"]
    assert sink._config["acks"] == "all"


def test_kafka_sink_keeps_its_own_bootstrap():
    config = KafkaSinkConfig(
        kind="kafka", topic="out", options={"kafka.bootstrap.servers": "h2:9092", "kafka.acks": 1}
    )
    sink = build_sink(config, "/cp/sinks/k", "h1:9092")
    assert sink._config["bootstrap_servers"] == ["h2:9092"]
    assert sink._config["acks"] == 1


def test_kafka_sink_without_any_bootstrap_is_refused():
    with pytest.raises(ConfigError, match=re.escape("'kafka.bootstrap.servers' is required")):
        build_sink(KafkaSinkConfig(kind="kafka", topic="out"), "/cp/sinks/k", None)


def test_kafka_sink_refuses_serializer_options():
    options = {"kafka.bootstrap.servers": "h:1", "kafka.value.serializer": "x"}
    with pytest.raises(ConfigError, match=re.escape("kafka.value.serializer")):
        KafkaSink("out", options, "/cp/sinks/k")
