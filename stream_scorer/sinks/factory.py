"""Builds a sink from its configuration."""

from stream_scorer.config.settings import (
    ConsoleSinkConfig,
    KafkaSinkConfig,
    ParquetSinkConfig,
    SourceConfig,
)
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS, connection_options
from stream_scorer.sinks.base import Sink
from stream_scorer.sinks.console import ConsoleSink
from stream_scorer.sinks.kafka import KafkaSink
from stream_scorer.sinks.parquet import ParquetSink


def build_sink(
    config: ParquetSinkConfig | KafkaSinkConfig | ConsoleSinkConfig,
    state_dir: str,
    source: SourceConfig | None,
    name: str = "sinks[0]",
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

    Raises
    ------
    ConfigError
        If the configuration is of an unknown kind or a Kafka sink has no bootstrap servers.
    """
    if isinstance(config, ParquetSinkConfig):
        return ParquetSink(config.path)
    if isinstance(config, KafkaSinkConfig):
        options, origin = dict(config.options), f"{name}.options"
        if not options.get(BOOTSTRAP_SERVERS) and source is not None:
            inherited = connection_options(source.options)
            if inherited.get(BOOTSTRAP_SERVERS):
                options, origin = {**inherited, **options}, "source.options"
        timeout_s = source.start_check_timeout_s if source is not None else 10.0
        if config.format == "avro" and config.schema_registry is not None:
            from stream_scorer.sinks.avro_values import AvroValues

            values = AvroValues(config.topic, config.schema_registry.model_dump())
            return KafkaSink(config.topic, options, state_dir, origin, timeout_s, values)
        return KafkaSink(config.topic, options, state_dir, origin, timeout_s)
    if isinstance(config, ConsoleSinkConfig):
        return ConsoleSink(config.num_rows)
    msg = f"unknown sink configuration {type(config).__name__}; expected parquet, kafka or console"
    raise ConfigError(msg)
