"""Builds a sink from its configuration."""

from typing import Any

from stream_scorer.config.settings import SourceConfig
from stream_scorer.config.sink_settings import (
    ConsoleSinkConfig,
    KafkaSinkConfig,
    ParquetSinkConfig,
    SinkConfig,
)
from stream_scorer.config.table_sinks import DeltaSinkConfig, IcebergSinkConfig
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS, connection_options
from stream_scorer.sinks.base import Sink
from stream_scorer.sinks.console import ConsoleSink
from stream_scorer.sinks.kafka import KafkaSink
from stream_scorer.sinks.kafka_exactly_once import TransactionalKafkaSink
from stream_scorer.sinks.parquet import ParquetSink


def build_sink(
    config: SinkConfig,
    state_dir: str,
    source: SourceConfig | None,
    name: str = "sinks[0]",
    checkpoint: str | None = None,
) -> Sink:
    """Return the sink `config` describes, not yet opened.

    Parameters
    ----------
    config
        One entry of `sinks` (or `dead_letter`) of the scorer's configuration.
    state_dir
        This sink's own directory for commit markers, e.g. `<checkpoint>/sinks/<name>`;
        used by sinks that keep no markers next to their output (Kafka).
    source
        The source's configuration. A Kafka sink that names no `kafka.bootstrap.servers`
        takes the source's, with the source's `kafka.security.protocol`, `kafka.sasl.*` and
        `kafka.ssl.*` (its own options win); one that names servers takes only its own. Its
        connection check at start waits `source.start_check_timeout_s`.
    name
        The sink's key in the configuration (`sinks[1]`, `dead_letter`), for messages.
    checkpoint
        The scorer's checkpoint, whose query id a table sink records in its commits and an
        exactly-once Kafka sink names its transactions after.

    Raises
    ------
    ConfigError
        If the configuration is of an unknown kind, a Kafka sink has no bootstrap servers,
        or a table sink or an exactly-once Kafka sink no checkpoint.
    """
    if isinstance(config, DeltaSinkConfig | IcebergSinkConfig):
        return _table_sink(config, checkpoint)
    if isinstance(config, ParquetSinkConfig):
        return ParquetSink(config.path)
    if isinstance(config, KafkaSinkConfig):
        options, origin = dict(config.options), f"{name}.options"
        if not options.get(BOOTSTRAP_SERVERS) and source is not None:
            inherited = connection_options(source.options)
            if inherited.get(BOOTSTRAP_SERVERS):
                options, origin = {**inherited, **options}, "source.options"
        timeout_s = source.start_check_timeout_s if source is not None else 10.0
        encode: dict[str, Any] = {}
        if config.format == "avro" and config.schema_registry is not None:
            from stream_scorer.sinks.avro_values import AvroValues

            encode["encode"] = AvroValues(config.topic, config.schema_registry.model_dump())
        if config.exactly_once:
            if checkpoint is None:
                msg = "an exactly-once Kafka sink names its transactions after the checkpoint"
                raise ConfigError(msg)
            return TransactionalKafkaSink(
                config.topic, options, state_dir, checkpoint, origin, timeout_s, **encode
            )
        return KafkaSink(config.topic, options, state_dir, origin, timeout_s, **encode)
    if isinstance(config, ConsoleSinkConfig):
        return ConsoleSink(config.num_rows)
    msg = (
        f"unknown sink configuration {type(config).__name__}; expected parquet, kafka, "
        "console, delta or iceberg"
    )
    raise ConfigError(msg)


def _table_sink(config: DeltaSinkConfig | IcebergSinkConfig, checkpoint: str | None) -> Sink:
    """The Delta or Iceberg sink of `config` (their packages import only here)."""
    if checkpoint is None:
        msg = f"a {config.kind} sink records the checkpoint's batches: build_sink(checkpoint=...)"
        raise ConfigError(msg)
    by_day = config.partition_by == "day"
    if isinstance(config, DeltaSinkConfig):
        from stream_scorer.sinks.delta import DeltaSink

        return DeltaSink(config.path, checkpoint, by_day)
    from stream_scorer.sinks.iceberg import IcebergSink

    return IcebergSink(config.catalog, config.table, checkpoint, by_day)
