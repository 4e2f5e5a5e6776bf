"""Driver-side Kafka metadata: which partitions the subscription covers, and their offsets.

One `KafkaMetadata` lives as long as the stream reader (one long-lived Python process per
query) and reuses one KafkaConsumer, created on first use; it never joins a group and never
commits. Every call asks the broker afresh, so new topics and partitions are seen. Latest
offsets are high-water marks, probed by a fetch on brokers whose ListOffsets under-reports
them (`highWatermarkProbe`, see `stream_scorer.sources.high_watermark`).
"""

import logging
import re
import time
from collections.abc import Iterable, Mapping
from typing import Any

from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from stream_scorer.errors import SourceError
from stream_scorer.kafka.client_config import client_config
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS
from stream_scorer.kafka.source_options import SourceOptions
from stream_scorer.sources.high_watermark import probe_high_watermarks, under_reports
from stream_scorer.sources.offsets import Offsets, TopicPartition

log = logging.getLogger(__name__)


def consumer_settings(kafka_options: Mapping[str, str]) -> dict[str, Any]:
    """Return KafkaConsumer settings: the `kafka.*` options, no group, no commits, bytes.

    Offsets out of range raise (`auto_offset_reset='none'`) instead of silently jumping, so
    lost records are always noticed; topics are never auto-created by a metadata request.
    """
    settings = {"allow_auto_create_topics": False, **client_config(kafka_options, "consumer")}
    settings.update(
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        key_deserializer=None,
        value_deserializer=None,
    )
    return settings


class KafkaMetadata:
    """Partitions of a subscription and their earliest / latest offsets, from the broker.

    Raises `SourceError` naming the bootstrap servers when the broker cannot answer.
    Picklable: the consumer is dropped and re-created on first use after unpickling.
    """

    def __init__(self, options: SourceOptions) -> None:
        self._options = options
        self._consumer: KafkaConsumer | None = None
        self._probes: bool | None = None  # auto: known once the broker has answered

    def __getstate__(self) -> dict[str, Any]:
        return {"_options": self._options, "_consumer": None, "_probes": self._probes}

    def partitions(self) -> list[TopicPartition]:
        """Return the subscribed topic-partitions that exist now, sorted."""
        sub = self._options.subscription
        existing = self.topics()
        if sub.kind == "assign":
            missing = [(t, p) for t, p in sub.assigned if p not in existing.get(t, set())]
            if missing:
                log.warning("assigned partitions %s do not exist (yet); skipping them", missing)
            return [tp for tp in sub.assigned if tp not in missing]
        if sub.kind == "subscribe":
            wanted = [t for t in sub.topics if t in existing]
        else:
            pattern = re.compile(sub.pattern or "")
            wanted = sorted(t for t in existing if pattern.fullmatch(t))
        return sorted((t, p) for t in wanted for p in existing[t])

    def topics(self) -> dict[str, set[int]]:
        """Return every topic on the broker, with its partitions."""
        names = self._call("list topics", self._client().topics)
        consumer = self._client()  # after a retry, not the client the call began with
        return {t: consumer.partitions_for_topic(t) or set() for t in names}

    def earliest(self, partitions: Iterable[TopicPartition]) -> Offsets:
        """Return the first offset still stored in each partition."""
        return self._offsets("earliest", partitions)

    def latest(self, partitions: Iterable[TopicPartition]) -> Offsets:
        """Return the offset the next record of each partition will get (its high-water mark).

        With `highWatermarkProbe` `always`, or `auto` on a broker known to under-report
        ListOffsets, one fetch per partition makes the answer exact.
        """
        listed = self._offsets("latest", partitions)
        if not listed or not self._probe_wanted():
            return listed
        exact = self._call("probe high-water marks", self._probe, listed)
        if exact != listed:
            log.debug("ListOffsets said %s; high-water marks are %s", listed, exact)
        return exact

    def close(self) -> None:
        """Close the consumer, if one was opened."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _offsets(self, which: str, partitions: Iterable[TopicPartition]) -> Offsets:
        tps = [KafkaTopicPartition(t, p) for t, p in partitions]
        if not tps:
            return {}
        consumer = self._client()
        fetch = consumer.beginning_offsets if which == "earliest" else consumer.end_offsets
        found = self._call(f"fetch {which} offsets", fetch, tps)
        return {(tp.topic, tp.partition): int(offset) for tp, offset in found.items()}

    def _probe_wanted(self) -> bool:
        mode = self._options.high_watermark_probe
        if mode != "auto":
            return mode == "always"
        if self._probes is None:
            self._probes = under_reports(self._client())
        return self._probes

    def _probe(self, listed: Offsets) -> Offsets:
        tps = {KafkaTopicPartition(t, p): offset for (t, p), offset in listed.items()}
        found = probe_high_watermarks(consumer_settings(self._options.kafka), tps)
        return {(tp.topic, tp.partition): offset for tp, offset in found.items()}

    def _client(self) -> KafkaConsumer:
        if self._consumer is None:
            settings = consumer_settings(self._options.kafka)
            self._consumer = self._call("connect", KafkaConsumer, **settings)
        return self._consumer

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Call `fn`; a retriable Kafka error is retried with back-off, as a broker restarts."""
        servers = self._options.kafka.get(BOOTSTRAP_SERVERS)
        delay_s = self._options.fetch_retry_interval_ms / 1000
        for attempt in range(self._options.fetch_retries + 1):
            try:
                return fn(*args, **kwargs)
            except KafkaError as exc:
                retriable = getattr(exc, "retriable", False) or isinstance(
                    exc, KafkaConnectionError | KafkaTimeoutError
                )
                if not retriable or attempt == self._options.fetch_retries:
                    msg = (
                        f"Kafka source could not {what} on {servers} after {attempt + 1} "
                        f"attempt(s): {exc!r}; check that the broker is reachable and the "
                        "kafka.* security options are right (retries: fetchOffset.numRetries)"
                    )
                    raise SourceError(msg) from exc
                log.warning(
                    "Kafka source could not %s on %s (%r); retry %d/%d in %.1fs",
                    what, servers, exc, attempt + 1, self._options.fetch_retries, delay_s,
                )  # fmt: skip
                if fn is not KafkaConsumer:
                    self.close()
                    if isinstance(getattr(fn, "__self__", None), KafkaConsumer):
                        fn = getattr(self._client(), fn.__name__)  # the new client's method
                time.sleep(delay_s)
                delay_s = min(delay_s * 2, MAX_RETRY_INTERVAL_S)
        raise AssertionError("unreachable")  # pragma: no cover


MAX_RETRY_INTERVAL_S = 30.0
