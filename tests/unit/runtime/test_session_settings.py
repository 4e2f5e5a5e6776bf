"""`scorer_settings`: C1-only JIT exactly where the scored rows never reach the JVM."""

from pathlib import Path

import pytest

from stream_scorer.runtime.session import JAVA_OPTIONS, QUICK_JIT, scorer_settings
from stream_scorer.testing.scorer_setup import scorer_config

KAFKA_SINK = {"kind": "kafka", "topic": "scores"}


def config(tmp_path: Path, **overrides):
    return scorer_config(tmp_path, "127.0.0.1:9092", "features", **overrides)


def test_the_one_pass_path_into_local_parquet_compiles_quickly(tmp_path):
    assert scorer_settings(config(tmp_path))[JAVA_OPTIONS] == QUICK_JIT


@pytest.mark.parametrize(
    "overrides",
    [
        {"scoring": {"one_pass": False}},
        {"sinks": [KAFKA_SINK]},
        {"sinks": [{"kind": "parquet", "path": "s3a://bucket/predictions"}]},
        {"spark": {"spark.master": "spark://cluster:7077"}},
    ],
    ids=["udf-path", "kafka-sink", "remote-parquet", "cluster"],
)
def test_paths_where_the_jvm_handles_rows_keep_the_default_jit(tmp_path, overrides):
    assert JAVA_OPTIONS not in scorer_settings(config(tmp_path, **overrides))


def test_the_spark_section_wins(tmp_path):
    own = {JAVA_OPTIONS: "-Xss4m", "spark.sql.shuffle.partitions": "8"}
    assert scorer_settings(config(tmp_path, spark=own)) == own
