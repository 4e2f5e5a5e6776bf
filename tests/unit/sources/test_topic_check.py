"""The start-time topic check asks the broker through the source's metadata client."""

import logging
from typing import ClassVar

import pytest
from kafka.errors import KafkaTimeoutError

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.sources import metadata
from stream_scorer.sources.topic_check import check_source_topics

OPTIONS = {
    "kafka.bootstrap.servers": "127.0.0.1:1",
    "fetchOffset.numRetries": "2",
    "fetchOffset.retryIntervalMs": "1",
    "kafkaClient": "kafka-python",  # the fake is kafka-python's; librdkafka's check is real
}


class FakeConsumer:
    """A broker holding topic 't' (partitions 0, 1); the first `down` connects time out."""

    down = 0
    created: ClassVar[list[dict]] = []

    def __init__(self, **settings):
        FakeConsumer.created.append(settings)
        if len(FakeConsumer.created) <= FakeConsumer.down:
            raise KafkaTimeoutError("bootstrap")

    def topics(self):
        return {"t"}

    def partitions_for_topic(self, topic):
        return {0, 1} if topic == "t" else None

    def close(self):
        pass


@pytest.fixture
def broker(monkeypatch):
    monkeypatch.setattr(metadata, "KafkaConsumer", FakeConsumer)
    monkeypatch.setattr(metadata.time, "sleep", lambda s: None)
    FakeConsumer.down, FakeConsumer.created = 0, []
    return FakeConsumer


def test_the_check_waits_for_the_broker_start_check_timeout_s(broker):
    config = SourceConfig(options={**OPTIONS, "subscribe": "t"}, start_check_timeout_s=2.5)
    check_source_topics(config)
    (settings,) = broker.created
    assert settings["bootstrap_timeout_ms"] == 2500


def test_a_broker_down_at_start_fails_once_in_one_line_without_the_sources_retries(broker):
    broker.down = 1
    with pytest.raises(SourceError) as err:
        check_source_topics(SourceConfig(options={**OPTIONS, "subscribe": "t"}))
    assert str(err.value) == (
        "no Kafka broker answered at 127.0.0.1:1 within 10s "
        "(source.options.kafka.bootstrap.servers): start the broker or fix the address; "
        "source.start_check_timeout_s sets the wait"
    )
    assert len(broker.created) == 1


def test_the_check_uses_the_sources_consumer_settings(broker):
    check_source_topics(SourceConfig(options={**OPTIONS, "subscribe": "t"}))
    (settings,) = broker.created
    assert (settings["group_id"], settings["allow_auto_create_topics"]) == (None, False)


def test_a_missing_subscribed_topic_fails_naming_the_option(broker):
    with pytest.raises(ConfigError) as err:
        check_source_topics(SourceConfig(options={**OPTIONS, "subscribe": "t,u"}))
    assert str(err.value).startswith(
        "option 'source.options.subscribe': topic(s) ['u'] do not exist on 127.0.0.1:1"
    )


def test_spark_kafka_with_a_setting_kafka_python_lacks_is_not_checked(broker, caplog):
    options = {**OPTIONS, "subscribe": "u", "kafka.ssl.keystore.password": "x"}
    with caplog.at_level(logging.WARNING):
        check_source_topics(SourceConfig(kind="spark-kafka", options=options))
    assert "topics of the spark-kafka source not checked at start" in caplog.text
    assert broker.created == []
