"""The Kafka source's options, validated once into a small, picklable value.

Option names are Spark's Kafka source names. Spark hands Python data sources their options
with lower-cased keys, so names are matched without case. `kafka.*` options go to the
client (see `stream_scorer.kafka.client_config`); every other name must be one the source
knows. The scorer's config parses its source options here when it loads, and the data source
parses what Spark hands it with the same rules.
"""

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.client_config import client_config
from stream_scorer.kafka.options import (
    ASSIGN,
    BOOTSTRAP_SERVERS,
    FAIL_ON_DATA_LOSS,
    FETCH_OFFSET_RETRIES,
    FETCH_OFFSET_RETRY_INTERVAL_MS,
    FORBIDDEN_OPTIONS,
    INCLUDE_HEADERS,
    KAFKA_PREFIX,
    MAX_OFFSETS_PER_TRIGGER,
    MAX_RECORDS_PER_PARTITION,
    MIN_PARTITIONS,
    POLL_TIMEOUT_MS,
    STARTING_OFFSETS,
    SUBSCRIBE,
    SUBSCRIBE_PATTERN,
    SUBSCRIPTION_KEYS,
)

SourceKind = Literal["python-kafka", "spark-kafka"]
"""`python-kafka`: our jar-free source. `spark-kafka`: Spark's connector, which knows more
option names than ours (they are passed to it unchecked)."""
TopicPartition = tuple[str, int]
EARLIEST = -2
"""Spark's `startingOffsets` JSON value for "the earliest offset of this partition"."""
LATEST = -1
"""Spark's `startingOffsets` JSON value for "the latest offset of this partition"."""
StartingOffsets = str | dict[TopicPartition, int]
"""'earliest', 'latest', or explicit offsets per partition (EARLIEST / LATEST allowed)."""

KAFKA_CLIENT = "kafkaClient"
KafkaClient = Literal["kafka-python", "confluent-kafka"]
KAFKA_CLIENTS: tuple[KafkaClient, ...] = ("kafka-python", "confluent-kafka")
GROUP_ID = "kafka.group.id"
HIGH_WATERMARK_PROBE = "highWatermarkProbe"
HighWatermarkProbe = Literal["auto", "always", "never"]
HIGH_WATERMARK_PROBES: tuple[HighWatermarkProbe, ...] = ("auto", "always", "never")
"""When the driver checks ListOffsets(latest) with a fetch: `auto` on brokers known to
under-report it (the embedded Tansu), `always`, or `never`."""
_Choice = TypeVar("_Choice", bound=str)
SUPPORTED_OPTIONS = (
    *SUBSCRIPTION_KEYS,
    STARTING_OFFSETS,
    FAIL_ON_DATA_LOSS,
    MAX_OFFSETS_PER_TRIGGER,
    MIN_PARTITIONS,
    MAX_RECORDS_PER_PARTITION,
    INCLUDE_HEADERS,
    POLL_TIMEOUT_MS,
    KAFKA_CLIENT,
    HIGH_WATERMARK_PROBE,
    FETCH_OFFSET_RETRIES,
    FETCH_OFFSET_RETRY_INTERVAL_MS,
)
_NAMES = {name.lower(): name for name in SUPPORTED_OPTIONS}
DEFAULT_POLL_TIMEOUT_MS = 120_000  # Spark's default for kafkaConsumer.pollTimeoutMs
# Spark retries offset fetches 3 times 10 ms apart; a broker restart takes seconds, so our
# driver waits 1 s, then doubles (1 + 2 + 4 s) before the query fails.
DEFAULT_FETCH_RETRIES = 3
DEFAULT_FETCH_RETRY_INTERVAL_MS = 1_000


@dataclass(frozen=True)
class Subscription:
    """Which partitions to read: named topics, a topic regex, or fixed partitions."""

    kind: Literal["subscribe", "subscribePattern", "assign"]
    topics: tuple[str, ...] = ()
    pattern: str | None = None
    assigned: tuple[TopicPartition, ...] = ()


@dataclass(frozen=True)
class SourceOptions:
    """Validated source options; `kafka` keeps the `kafka.*` options for the client.

    `kafka_client` is the library executors read records with (the driver's metadata
    calls always use kafka-python); `kafka.group.id`, when given, is the consumer group
    the processed offsets are committed to, for lag tools only (never read back).
    """

    subscription: Subscription
    starting: StartingOffsets = "latest"
    fail_on_data_loss: bool = True
    max_offsets_per_trigger: int | None = None
    min_partitions: int | None = None
    max_records_per_partition: int | None = None
    include_headers: bool = False
    poll_timeout_ms: int = DEFAULT_POLL_TIMEOUT_MS
    fetch_retries: int = DEFAULT_FETCH_RETRIES
    fetch_retry_interval_ms: int = DEFAULT_FETCH_RETRY_INTERVAL_MS
    kafka: dict[str, str] = field(default_factory=dict)
    kafka_client: KafkaClient = "confluent-kafka"
    high_watermark_probe: HighWatermarkProbe = "auto"

    @property
    def group_id(self) -> str | None:
        """Return the consumer group to commit processed offsets to, or None."""
        return self.kafka.get(GROUP_ID) or None


def parse_options(options: Mapping[str, str], kind: SourceKind = "python-kafka") -> SourceOptions:
    """Validate Spark-style Kafka source options (names in any case, values strings).

    For `kind="spark-kafka"`, names this source does not know and `kafka.*` names kafka-python
    does not know are left to Spark's connector; every other rule holds for both kinds.

    Raises
    ------
    ConfigError
        Naming the key, the value and what was expected: unknown or forbidden option,
        missing bootstrap servers or subscription, malformed startingOffsets / assign /
        pattern, non-numeric numbers.
    """
    given = {k.lower(): v for k, v in options.items()}
    kafka = {k: v for k, v in given.items() if k.startswith(KAFKA_PREFIX)}
    unknown = [k for k in options if k.lower() not in _NAMES and k.lower() not in kafka]
    if unknown and kind == "python-kafka":
        raise ConfigError("; ".join(map(_unknown_option, unknown)))
    for key, why in FORBIDDEN_OPTIONS.items():
        if key in kafka:
            msg = f"option '{key}' is not allowed: {why}"
            raise ConfigError(msg)
    if not kafka.get(BOOTSTRAP_SERVERS):
        msg = f"option '{BOOTSTRAP_SERVERS}' is required (e.g. 127.0.0.1:9092)"
        raise ConfigError(msg)
    if kind == "python-kafka":
        client_config(kafka, "consumer")  # refuses kafka.* names the client does not know
    opts = {_NAMES[k]: v for k, v in given.items() if k in _NAMES}
    return SourceOptions(
        subscription=_subscription(opts),
        starting=parse_starting_offsets(opts.get(STARTING_OFFSETS, "latest")),
        fail_on_data_loss=_bool(opts, FAIL_ON_DATA_LOSS, True),
        max_offsets_per_trigger=_positive(opts, MAX_OFFSETS_PER_TRIGGER),
        min_partitions=_positive(opts, MIN_PARTITIONS),
        max_records_per_partition=_positive(opts, MAX_RECORDS_PER_PARTITION),
        include_headers=_bool(opts, INCLUDE_HEADERS, False),
        poll_timeout_ms=_positive(opts, POLL_TIMEOUT_MS) or DEFAULT_POLL_TIMEOUT_MS,
        fetch_retries=_positive(opts, FETCH_OFFSET_RETRIES) or DEFAULT_FETCH_RETRIES,
        fetch_retry_interval_ms=_positive(opts, FETCH_OFFSET_RETRY_INTERVAL_MS)
        or DEFAULT_FETCH_RETRY_INTERVAL_MS,
        kafka=kafka,
        kafka_client=_choice(opts, KAFKA_CLIENT, KAFKA_CLIENTS, "confluent-kafka"),
        high_watermark_probe=_choice(opts, HIGH_WATERMARK_PROBE, HIGH_WATERMARK_PROBES, "auto"),
    )


def parse_starting_offsets(value: str, key: str = STARTING_OFFSETS) -> StartingOffsets:
    """Parse `startingOffsets`: 'earliest', 'latest' or `{"topic": {"0": 23, "1": -2}}`.

    Raises
    ------
    ConfigError
        If the value is neither keyword nor valid JSON of that shape.
    """
    word = value.strip().lower()
    if word in ("earliest", "latest"):
        return word
    expected = 'earliest, latest or JSON like {"topic": {"0": 23, "1": -2}}'
    try:
        data = json.loads(value)
        if not isinstance(data, dict) or not data:
            raise ValueError
        offsets = {
            (t, int(p)): int(o)
            for t, parts in data.items()
            for p, o in parts.items()
            if isinstance(o, int) and not isinstance(o, bool)
        }
        if len(offsets) != sum(len(parts) for parts in data.values()):
            raise ValueError
    except (ValueError, TypeError, AttributeError):
        msg = f"option '{key}': got {value!r}; expected {expected}"
        raise ConfigError(msg) from None
    bad = sorted(tp for tp, offset in offsets.items() if offset < EARLIEST)
    if bad:
        msg = f"option '{key}': offsets of {bad} are below -2; use -2 (earliest) or -1 (latest)"
        raise ConfigError(msg)
    return offsets


def _unknown_option(name: str) -> str:
    close = difflib.get_close_matches(name.lower(), _NAMES, n=1)
    if close:
        return f"unknown option '{name}' (did you mean '{_NAMES[close[0]]}'?)"
    return f"unknown option '{name}'; expected one of {', '.join(SUPPORTED_OPTIONS)} or kafka.*"


def _choice(
    opts: Mapping[str, str], key: str, choices: tuple[_Choice, ...], default: _Choice
) -> _Choice:
    """The value of option `key`, one of `choices` (in any case); `default` when unset."""
    value = opts.get(key, default).strip().lower()
    for choice in choices:
        if value == choice:
            return choice
    msg = f"option '{key}': got {value!r}; expected one of {', '.join(choices)}"
    raise ConfigError(msg)


def _subscription(opts: Mapping[str, str]) -> Subscription:
    given = [k for k in SUBSCRIPTION_KEYS if opts.get(k, "").strip()]
    if len(given) != 1:
        msg = f"exactly one of {', '.join(SUBSCRIPTION_KEYS)} is required, got {given or 'none'}"
        raise ConfigError(msg)
    value = opts[given[0]].strip()
    if given[0] == SUBSCRIBE:
        return Subscription(
            "subscribe", topics=tuple(t.strip() for t in value.split(",") if t.strip())
        )
    if given[0] == SUBSCRIBE_PATTERN:
        try:
            re.compile(value)
        except re.error as exc:
            msg = f"option '{SUBSCRIBE_PATTERN}': {value!r} is not a valid regex ({exc})"
            raise ConfigError(msg) from None
        return Subscription("subscribePattern", pattern=value)
    return Subscription("assign", assigned=_assigned(value))


def _assigned(value: str) -> tuple[TopicPartition, ...]:
    try:
        data = json.loads(value)
        pairs = sorted({(t, p) for t, parts in data.items() for p in parts})
        if not pairs or not all(isinstance(p, int) and p >= 0 for _, p in pairs):
            raise ValueError
    except (ValueError, TypeError, AttributeError):
        msg = f"option '{ASSIGN}': got {value!r}; expected JSON like {{\"topic\": [0, 1]}}"
        raise ConfigError(msg) from None
    return tuple(pairs)


def _bool(opts: Mapping[str, str], key: str, default: bool) -> bool:
    value = opts.get(key)
    if value is None:
        return default
    if value.strip().lower() not in ("true", "false"):
        msg = f"option '{key}': got {value!r}; expected true or false"
        raise ConfigError(msg)
    return value.strip().lower() == "true"


def _positive(opts: Mapping[str, str], key: str) -> int | None:
    value = opts.get(key)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        msg = f"option '{key}': got {value!r}; expected a positive integer"
        raise ConfigError(msg)
    return number
