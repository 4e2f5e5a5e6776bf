"""The application id of a checkpoint's query, which sinks record their commits under.

`stream-scorer-<id>`, where `<id>` is the streaming query's id from the checkpoint's
`metadata` file: it survives restarts (and a moved checkpoint), and a new checkpoint, whose
batches start at 0 again, gets a new one. Delta's `txn` and Iceberg's snapshot summary hold
it (`sinks.table`); the exactly-once Kafka sink names its consumer group and transactional
ids after it (`sinks.kafka_exactly_once`).
"""

import json

from stream_scorer.files import Files

APP_PREFIX = "stream-scorer-"


def checkpoint_app_id(checkpoint: Files) -> str | None:
    """The application id of the query of `checkpoint`; None before its first start."""
    if not checkpoint.exists("metadata"):
        return None
    return APP_PREFIX + json.loads(checkpoint.read("metadata"))["id"]
