"""Start-time check that the topics a source subscribes to exist, so a typo fails fast.

Without it a scorer subscribed to a missing topic would start and wait forever for records
that never come. The check asks the broker for its topics once, through the source's own
`KafkaMetadata` (same client settings), and waits for the broker at most
`source.start_check_timeout_s`: a broker that refuses every connection at start is a wrong
address or a stopped broker, not worth the running query's retries (fetchOffset.*). A
failure that names its cause (authentication, SASL mechanism, TLS) ends the wait at once
with that cause in one line (`stream_scorer.kafka.reach`), for the driver's kafka-python
client and, with `kafkaClient=confluent-kafka`, the executors' librdkafka. It never
auto-creates a topic and never joins a consumer group.
"""

import dataclasses
import logging
import re

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.causes import Target
from stream_scorer.kafka.client_config import confluent_config
from stream_scorer.kafka.options import ASSIGN, BOOTSTRAP_SERVERS, SUBSCRIBE
from stream_scorer.kafka.reach import (
    CLIENT_ID,
    check_librdkafka,
    check_tls,
    probe_client_id,
    watched,
)
from stream_scorer.kafka.source_options import Subscription
from stream_scorer.sources.metadata import KafkaMetadata

log = logging.getLogger(__name__)


def check_source_topics(source: SourceConfig) -> None:
    """Fail unless every topic named by `subscribe` or `assign` exists on the broker.

    A `subscribePattern` may legitimately match nothing yet: that only logs a warning, as
    do assigned partitions missing from a topic that exists (they may be added later).
    A `spark-kafka` source whose `kafka.*` options kafka-python cannot use is not checked.

    Raises
    ------
    ConfigError
        Naming `source.options.<key>` and the missing topics.
    SourceError
        If no broker answers within `source.start_check_timeout_s`, or a client names why it
        cannot connect (`stream_scorer.kafka.causes`): at once, in one line.
    """
    servers = source.parsed.kafka.get(BOOTSTRAP_SERVERS)
    timeout_s = source.start_check_timeout_s
    target = Target.of(source.parsed.kafka, "source.options")
    check_tls(source.parsed.kafka, target, timeout_s, SourceError)
    client_id = probe_client_id()
    options = dataclasses.replace(
        source.parsed,
        fetch_retries=0,  # the bootstrap itself retries until the timeout
        kafka={
            **source.parsed.kafka,
            "kafka.bootstrap.timeout.ms": str(round(timeout_s * 1000)),
            CLIENT_ID: client_id,
        },
    )
    metadata = KafkaMetadata(options)
    try:
        topics = watched(metadata.topics, client_id, target, timeout_s, SourceError)
    except ConfigError as exc:  # spark-kafka only: python-kafka's were checked at load
        log.warning("topics of the spark-kafka source not checked at start: %s", exc)
        return
    finally:
        metadata.close()
    if source.kind == "python-kafka" and source.parsed.kafka_client == "confluent-kafka":
        config = confluent_config(source.parsed.kafka)
        check_librdkafka(config, target, timeout_s, SourceError)
    _check(source.parsed.subscription, topics, servers)


def _check(sub: Subscription, topics: dict[str, set[int]], servers: str | None) -> None:
    if sub.kind == "subscribePattern":
        pattern = re.compile(sub.pattern or "")
        if not any(pattern.fullmatch(t) for t in topics):
            log.warning("subscribePattern %r matches no topic on %s yet", sub.pattern, servers)
        return
    key = SUBSCRIBE if sub.kind == "subscribe" else ASSIGN
    wanted = sub.topics if sub.kind == "subscribe" else tuple(t for t, _ in sub.assigned)
    missing = sorted({t for t in wanted if t not in topics})
    if missing:
        msg = (
            f"option 'source.options.{key}': topic(s) {missing} do not exist on {servers}; "
            "fix the name or create the topic first (the scorer never creates topics)"
        )
        raise ConfigError(msg)
    absent = [(t, p) for t, p in sub.assigned if p not in topics[t]]
    if absent:
        log.warning("option 'source.options.%s': partitions %s do not exist yet", key, absent)
