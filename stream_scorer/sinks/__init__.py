"""Sinks: where scored rows and dead letters go, each idempotent per micro-batch id.

Every sink has the same lifecycle (`open(spark)` once, `write(df, batch_id)` once per
micro-batch on the driver, `close()` at the end), and `Sink.write` is one template: skip a
batch id already committed, write it (`_write_batch`, all a sink implements), then mark it
committed. `ParquetSink` and `KafkaSink` keep those commit markers (`BatchMarkers`), so a
batch Spark replays after a crash writes nothing twice; `ConsoleSink` is for development
and keeps none. `BatchHooks` observe a batch's writes. `build_sink` turns a sink config
into a sink.
"""

from stream_scorer.sinks.base import NO_HOOKS, BatchHooks, BatchMarkers, Sink
from stream_scorer.sinks.console import ConsoleSink
from stream_scorer.sinks.factory import build_sink
from stream_scorer.sinks.kafka import KafkaSink
from stream_scorer.sinks.parquet import ParquetSink

__all__ = [
    "NO_HOOKS",
    "BatchHooks",
    "BatchMarkers",
    "ConsoleSink",
    "KafkaSink",
    "ParquetSink",
    "Sink",
    "build_sink",
]
