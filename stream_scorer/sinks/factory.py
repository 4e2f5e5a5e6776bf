"""Builds a sink from its configuration."""

from stream_scorer.config.settings import ConsoleSinkConfig, KafkaSinkConfig, ParquetSinkConfig
from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS
from stream_scorer.sinks.base import Sink
from stream_scorer.sinks.console import ConsoleSink
from stream_scorer.sinks.kafka import KafkaSink
from stream_scorer.sinks.parquet import ParquetSink


def build_sink(
    config: ParquetSinkConfig | KafkaSinkConfig | ConsoleSinkConfig,
    state_dir: str,
    source_bootstrap: str | None,
) -> Sink:
    """Return the sink `config` describes, not yet opened.

    Parameters
    ----------
    config
        One entry of `sinks` (or `dead_letter`) of the scorer's configuration.
    state_dir
        This sink's own directory for commit markers, e.g. `<checkpoint>/sinks/<name>`;
        used by sinks that keep no markers next to their output (Kafka).
    source_bootstrap
        The source's `kafka.bootstrap.servers`, used when a Kafka sink names none.

    Raises
    ------
    ConfigError
        If the configuration is of an unknown kind or a Kafka sink has no bootstrap servers.
    """
    if isinstance(config, ParquetSinkConfig):
        return ParquetSink(config.path)
    if isinstance(config, KafkaSinkConfig):
        options = dict(config.options)
        if not options.get(BOOTSTRAP_SERVERS) and source_bootstrap:
            options[BOOTSTRAP_SERVERS] = source_bootstrap
        return KafkaSink(config.topic, options, state_dir)
    if isinstance(config, ConsoleSinkConfig):
        return ConsoleSink(config.num_rows)
    msg = f"unknown sink configuration {type(config).__name__}; expected parquet, kafka or console"
    raise ConfigError(msg)
