"""Source lag per topic-partition from a query progress' offsets."""

import json


def partition_lag(end_offset: str | None, latest_offset: str | None) -> dict[str, int]:
    """Return {"topic/partition": latest - processed} from Kafka-style offset JSON strings.

    Both arguments are offsets as Spark reports them for Kafka sources,
    `{"topic": {"0": 42}}`; a partition missing from either side is left out. Unknown
    offsets give no lag: None, empty, or the text "None" that PySpark reports for a Python
    source whose latest offset it has not asked for (the first batch of a restarted
    availableNow query).
    """
    unknown = (None, "", "None")
    if end_offset in unknown or latest_offset in unknown:
        return {}
    end, latest = json.loads(end_offset), json.loads(latest_offset)
    lag: dict[str, int] = {}
    for topic, partitions in latest.items():
        for partition, newest in partitions.items():
            done = end.get(topic, {}).get(partition)
            if done is not None:
                lag[f"{topic}/{partition}"] = max(0, int(newest) - int(done))
    return lag
