"""Kafka topics for tests and benchmarks."""

import uuid

from kafka import KafkaAdminClient
from kafka.admin import NewTopic


def create_topic(bootstrap: str, partitions: int, name: str | None = None) -> str:
    """Create a topic with `partitions` partitions (a random name by default); return its name."""
    name = name or f"t-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()
    return name
