"""Driver-side metadata calls retry a broker outage with back-off, then fail naming it."""

import pytest
from kafka.errors import KafkaConnectionError, TopicAuthorizationFailedError

from stream_scorer.errors import SourceError
from stream_scorer.kafka.source_options import parse_options
from stream_scorer.sources import metadata as metadata_module
from stream_scorer.sources.metadata import KafkaMetadata

OPTIONS = {
    "kafka.bootstrap.servers": "127.0.0.1:1",
    "subscribe": "t",
    "fetchOffset.numRetries": "2",
    "fetchOffset.retryIntervalMs": "10",
}


class Flaky:
    """Fails `failures` times with `error`, then answers."""

    __name__ = "topics"

    def __init__(self, failures: int, error: Exception) -> None:
        self.calls, self.failures, self.error = 0, failures, error

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return {"t"}


@pytest.fixture
def metadata(monkeypatch):
    meta = KafkaMetadata(parse_options(OPTIONS))
    monkeypatch.setattr(meta, "_client", lambda: None)  # no real consumer
    monkeypatch.setattr(metadata_module.time, "sleep", lambda s: sleeps.append(s))
    sleeps: list[float] = []
    meta.sleeps = sleeps
    return meta


def test_a_short_outage_is_retried_with_growing_back_off(metadata, monkeypatch):
    flaky = Flaky(2, KafkaConnectionError("refused"))
    monkeypatch.setattr(metadata, "_client", lambda: type("C", (), {"topics": flaky})())
    assert metadata._call("list topics", flaky) == {"t"}
    assert flaky.calls == 3
    assert metadata.sleeps == [0.01, 0.02]


def test_an_outage_longer_than_the_retries_fails_naming_the_broker(metadata, monkeypatch):
    flaky = Flaky(5, KafkaConnectionError("refused"))
    monkeypatch.setattr(metadata, "_client", lambda: type("C", (), {"topics": flaky})())
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:1 after 3 attempt"):
        metadata._call("list topics", flaky)


def test_a_non_retriable_error_fails_at_once(metadata):
    flaky = Flaky(1, TopicAuthorizationFailedError("gone"))
    with pytest.raises(SourceError, match="after 1 attempt"):
        metadata._call("list topics", flaky)
    assert flaky.calls == 1
