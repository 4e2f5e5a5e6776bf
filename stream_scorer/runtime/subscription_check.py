"""Start-time check that the config still subscribes to every topic of the checkpoint.

A checkpoint remembers the offsets of the topics it read. Restarted with a subscription
that leaves one out (`subscribe: a` became `subscribe: b`), the source would find that
topic's partitions gone and report data loss, whose only hint, failOnDataLoss=false, drops
records silently. This check says what changed instead, before the query starts. Topics
the subscription adds are allowed and read from their earliest offsets, as Spark's Kafka
source reads partitions new to a checkpoint. A `subscribePattern` covers a topic whose name
it matches, whether or not the topic exists now (a deleted topic is data loss, not a change).
"""

import logging
import re

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import CheckpointError
from stream_scorer.kafka.options import ASSIGN, SUBSCRIBE, SUBSCRIBE_PATTERN
from stream_scorer.kafka.source_options import Subscription
from stream_scorer.runtime.checkpoint import Checkpoint

log = logging.getLogger(__name__)


def check_subscription(checkpoint: Checkpoint, source: SourceConfig) -> None:
    """Refuse to resume `checkpoint` if `source`'s subscription leaves out one of its topics.

    Raises
    ------
    CheckpointError
        Naming the checkpoint's topics, what the config asks for, and the two ways on.
    """
    had = checkpoint.source_topics()
    sub = source.parsed.subscription
    gone = sorted(topic for topic in had if not covers(sub, topic))
    if gone:
        msg = (
            f"checkpoint {checkpoint.path} holds offsets of topics {sorted(had)}, but "
            f"source.options {asked_for(sub)} leaves out {gone}; a checkpoint cannot change "
            "its subscription this way. Either point `checkpoint` at a new directory (and "
            "the sinks at new paths) to start the new subscription from its startingOffsets, "
            f"or go back to the old subscription ({SUBSCRIBE}: {','.join(sorted(had))})"
        )
        raise CheckpointError(msg)
    if had and sub.kind == "subscribe":
        added = sorted(set(sub.topics) - had)
        if added:
            log.info("topics %s are new to the checkpoint: read from their earliest offsets", added)


def covers(sub: Subscription, topic: str) -> bool:
    """Return True if `sub` asks for `topic`."""
    if sub.kind == "subscribe":
        return topic in sub.topics
    if sub.kind == "subscribePattern":
        return re.fullmatch(sub.pattern or "", topic) is not None
    return any(t == topic for t, _ in sub.assigned)


def asked_for(sub: Subscription) -> str:
    """Return the subscription as the config spells it, for messages."""
    if sub.kind == "subscribe":
        return f"{SUBSCRIBE}: {','.join(sub.topics)}"
    if sub.kind == "subscribePattern":
        return f"{SUBSCRIBE_PATTERN}: {sub.pattern}"
    return f"{ASSIGN} of topics {sorted({t for t, _ in sub.assigned})}"
