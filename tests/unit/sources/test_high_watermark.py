"""Which brokers get their latest offsets probed under `highWatermarkProbe: auto`."""

from types import SimpleNamespace

from stream_scorer.sources.high_watermark import under_reports


def consumer_of(cluster_id: str | None) -> SimpleNamespace:
    """An object shaped as a KafkaConsumer that has metadata from `cluster_id`."""
    return SimpleNamespace(_client=SimpleNamespace(cluster=SimpleNamespace(cluster_id=cluster_id)))


def test_the_embedded_broker_under_reports():
    assert under_reports(consumer_of("tansu_cluster")) is True


def test_an_apache_kafka_cluster_does_not_under_report():
    assert under_reports(consumer_of("MkU3OEVBNTcwNTJENDM2Qk")) is False


def test_a_cluster_without_an_id_does_not_under_report():
    assert under_reports(consumer_of(None)) is False
