"""Commits processed offsets to a consumer group, so standard Kafka tools can show lag.

Positions still live in Spark's checkpoint: the group's offsets are written after each batch
and never read back. Spark calls a reader's `commit(end)` only when it plans the batch after
`end`, so an idle query would leave its last batch uncommitted; the reader therefore also
commits the `start` of `latestOffset(start, ...)`, which Spark passes once that batch is done.
Unchanged offsets are not committed again. Lag reporting is a side channel, so a failed
commit is logged and the query goes on (the next batch's commit carries newer offsets).
"""

import logging
from typing import Any

from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from stream_scorer.kafka.source_options import SourceOptions
from stream_scorer.sources.metadata import consumer_settings
from stream_scorer.sources.offsets import Offsets

log = logging.getLogger(__name__)


class GroupOffsetCommitter:
    """Writes end offsets of committed micro-batches to the group `kafka.group.id`.

    Without a group id, `commit` does nothing. Driver side, one per stream reader; the
    client joins no group (a "simple" commit with no generation) and is created on first
    use. Picklable: the client is dropped and re-created after unpickling.
    """

    def __init__(self, options: SourceOptions) -> None:
        self._options = options
        self._consumer: KafkaConsumer | None = None
        self._last: Offsets = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"_options": self._options, "_consumer": None, "_last": {}}

    def commit(self, end: Offsets) -> None:
        """Commit `end` (the next offset to read, per partition) to the group, if one is set."""
        group = self._options.group_id
        if group is None or not end or end == self._last:
            return
        offsets = {
            KafkaTopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in end.items()
        }
        try:
            self._client(group).commit(offsets)
            self._last = dict(end)
        except KafkaError as exc:
            log.warning(
                "could not commit offsets to consumer group '%s' (lag reporting only; the "
                "checkpoint is unaffected): %r",
                group,
                exc,
            )

    def close(self) -> None:
        """Close the client, if one was opened."""
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def _client(self, group: str) -> KafkaConsumer:
        if self._consumer is None:
            settings = {**consumer_settings(self._options.kafka), "group_id": group}
            self._consumer = KafkaConsumer(**settings)
        return self._consumer
