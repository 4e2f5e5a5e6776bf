"""Names of Kafka options as Spark's Kafka source spells them, and the rules on them."""

from collections.abc import Mapping

KAFKA_PREFIX = "kafka."
BOOTSTRAP_SERVERS = "kafka.bootstrap.servers"
SUBSCRIBE = "subscribe"
SUBSCRIBE_PATTERN = "subscribePattern"
ASSIGN = "assign"
SUBSCRIPTION_KEYS = (SUBSCRIBE, SUBSCRIBE_PATTERN, ASSIGN)
STARTING_OFFSETS = "startingOffsets"
FAIL_ON_DATA_LOSS = "failOnDataLoss"
MAX_OFFSETS_PER_TRIGGER = "maxOffsetsPerTrigger"
MIN_PARTITIONS = "minPartitions"
MAX_RECORDS_PER_PARTITION = "maxRecordsPerPartition"
INCLUDE_HEADERS = "includeHeaders"
POLL_TIMEOUT_MS = "kafkaConsumer.pollTimeoutMs"
GROUP_ID_PREFIX = "groupIdPrefix"
FETCH_OFFSET_RETRIES = "fetchOffset.numRetries"
FETCH_OFFSET_RETRY_INTERVAL_MS = "fetchOffset.retryIntervalMs"

# Options Spark's Kafka source refuses because the source itself owns what they control:
# positions live in the checkpoint, records stay bytes, nothing runs inside the client.
FORBIDDEN_OPTIONS: Mapping[str, str] = {
    "kafka.auto.offset.reset": "use startingOffsets; positions live in Spark's checkpoint",
    "kafka.enable.auto.commit": "offsets live in Spark's checkpoint, never in auto-commits",
    "kafka.key.deserializer": "keys are always read as bytes",
    "kafka.value.deserializer": "values are always read as bytes",
    "kafka.interceptor.classes": "client interceptors are not supported",
}

# Options that say how to reach and log into a cluster: a Kafka sink that takes the source's
# bootstrap servers takes these with them.
CONNECTION_PREFIXES = (BOOTSTRAP_SERVERS, "kafka.security.protocol", "kafka.sasl.", "kafka.ssl.")

# Substrings of option names whose values are secrets and never appear in logs or errors.
SECRET_MARKERS = ("password", "jaas", "secret", "token", "key.pem", "keystore.key")
REDACTED = "*****"


def is_secret(key: str) -> bool:
    """Return True if the option named `key` holds a secret."""
    lowered = key.lower()
    return any(marker in lowered for marker in SECRET_MARKERS)


def redact(options: Mapping[str, str]) -> dict[str, str]:
    """Return a copy of `options` with every secret value replaced by `*****`."""
    return {k: (REDACTED if is_secret(k) else v) for k, v in options.items()}


def client_options(options: Mapping[str, str]) -> dict[str, str]:
    """Return the `kafka.*` options with the prefix removed, as Kafka client settings."""
    return {k[len(KAFKA_PREFIX) :]: v for k, v in options.items() if k.startswith(KAFKA_PREFIX)}


def connection_options(options: Mapping[str, str]) -> dict[str, str]:
    """Return the bootstrap servers and the security options (`kafka.security.protocol`,
    `kafka.sasl.*`, `kafka.ssl.*`) of `options`."""
    return {k: v for k, v in options.items() if k.startswith(CONNECTION_PREFIXES)}
