"""`stream-scorer run`: the scoring daemon."""

import argparse
import logging
import time
from pathlib import Path

from stream_scorer.config import ScorerConfig, load_config
from stream_scorer.errors import ConfigError, ModelStoreError
from stream_scorer.runtime import logs
from stream_scorer.versions.store import ModelStore

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `run` sub-command."""
    p = subparsers.add_parser(
        "run",
        help="run the scorer (daemon)",
        description="Read the Kafka source, score each micro-batch with the serving model and "
        "write the sinks. Resumes from the checkpoint. SIGTERM stops between batches.",
    )
    p.add_argument("--config", required=True, help="YAML config file (see configs/local.yaml)")
    p.add_argument(
        "--once",
        action="store_true",
        help="process everything available now (availableNow), then exit 0",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check what can be checked before Spark starts, then run until stopped or drained.

    Before the JVM starts: the config (`load_config`), the model store's CURRENT, the
    source's topics and the Kafka sinks' connections (each bounded by
    `source.start_check_timeout_s`).
    """
    config = load_config(args.config)
    log_file = None if args.verbose else _log_to_file(config, args.config)
    require_current_model(config, args.config)
    # Spark's imports only once the config is known good: its mistakes fail in a second
    from stream_scorer.runtime.scorer import Scorer, lock_before_spark
    from stream_scorer.runtime.session import build_session, scorer_settings
    from stream_scorer.sources.spark_api import check_source_runs
    from stream_scorer.sources.topic_check import check_source_topics

    check_source_runs(config.source, args.once or config.trigger.availableNow)
    check_source_topics(config.source)
    check_kafka_sinks(config)

    lock = lock_before_spark(config)  # a second scorer on the checkpoint fails here
    try:
        logs.announce_start(config.checkpoint, log_file)
        began = time.monotonic()
        spark = build_session(config.app_name, scorer_settings(config), jvm_log=log_file)
        log.info("Spark session ready in %.1fs", time.monotonic() - began)
        scorer = Scorer(config, spark, args.once, topics_checked=True, hooks=args.hooks, lock=lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise
    return scorer.run()


def check_kafka_sinks(config: ScorerConfig) -> None:
    """Check that each Kafka sink (and a Kafka dead letter) can connect, before Spark starts.

    Raises
    ------
    SinkError
        Naming the sink and why it cannot connect, in one line (`KafkaSink.check_connection`).
    """
    from stream_scorer.sinks.factory import build_sink
    from stream_scorer.sinks.kafka import KafkaSink

    named = [(f"sinks[{i}]", sink) for i, sink in enumerate(config.sinks)]
    for name, sink_config in [*named, ("dead_letter", config.dead_letter)]:
        if sink_config.kind != "kafka":  # the others have no connection to check
            continue
        sink = build_sink(sink_config, "unused", config.source, name, config.checkpoint)
        if isinstance(sink, KafkaSink):
            sink.check_connection()


def require_current_model(config: ScorerConfig, origin: str | Path) -> None:
    """Refuse to start when the model store does not exist or has no CURRENT version.

    Only for `model.source: store`: an MLflow alias is resolved when the scorer starts, which
    fails naming the alias and the registry if it points nowhere.

    Raises
    ------
    ModelStoreError
        Naming the config file, `model.store`, the directory and how to publish a model.
    """
    if config.model.source != "store" or config.model.store is None:
        return
    store = ModelStore(config.model.store, config.model.store_options)
    if not store.exists():
        problem = "does not exist"
    elif store.current_version() is None:
        problem = "has no CURRENT version"
    else:
        return
    msg = (
        f"{origin}: model.store: {store.location} {problem}; publish a model first: "
        f"stream-scorer model publish MODEL_FILE --store {store.location} --config {origin}"
    )
    raise ModelStoreError(msg)


def _log_to_file(config: ScorerConfig, origin: str | Path) -> Path:
    path = config.logging.file or logs.default_log_file(config.checkpoint, config.app_name)
    try:
        return logs.log_to_file(path)
    except OSError as exc:
        msg = f"{origin}: logging.file: cannot write {path}: {exc.strerror}"
        raise ConfigError(msg) from None
