"""What runs on which pyspark: the start-time refusals of `sources.spark_api`."""

import pytest

from stream_scorer.config.settings import SourceConfig
from stream_scorer.errors import ConfigError
from stream_scorer.sources.spark_api import check_source_runs, version_tuple


def source(kind: str = "python-kafka", **extra: str) -> SourceConfig:
    options = {"kafka.bootstrap.servers": "127.0.0.1:9092", "subscribe": "t", **extra}
    return SourceConfig(kind=kind, options=options)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("4.3.0", (4, 3)), ("4.0.5", (4, 0)), ("3.5.8", (3, 5)), ("4.2.0.dev1", (4, 2))],
)
def test_version_tuple_reads_major_and_minor(text, expected):
    assert version_tuple(text) == expected


@pytest.mark.smoke
def test_python_kafka_on_pyspark_3_5_is_refused_naming_the_version_and_the_alternative():
    with pytest.raises(ConfigError) as err:
        check_source_runs(source(), available_now=False, version="3.5.8")
    message = str(err.value)
    assert "source.kind: python-kafka needs pyspark >= 4.0" in message
    assert "pyspark 3.5.8 is installed" in message
    assert "source.kind: spark-kafka" in message


def test_spark_kafka_runs_on_every_version():
    for version in ("3.5.8", "4.0.5", "4.3.0"):
        check_source_runs(source("spark-kafka", maxOffsetsPerTrigger="5"), True, version)


@pytest.mark.smoke
@pytest.mark.parametrize("version", ["4.0.5", "4.1.4"])
def test_budget_with_available_now_before_4_2_is_refused(version):
    with pytest.raises(ConfigError) as err:
        check_source_runs(source(maxOffsetsPerTrigger="200"), available_now=True, version=version)
    message = str(err.value)
    assert "source.options.maxOffsetsPerTrigger: 200 with trigger availableNow" in message
    assert f"needs pyspark >= 4.2; on pyspark {version}" in message
    assert "remove maxOffsetsPerTrigger, use a processingTime trigger" in message


@pytest.mark.parametrize(
    ("version", "budget", "available_now"),
    [
        ("4.0.5", "200", False),
        ("4.0.5", None, True),
        ("4.2.1", "200", True),
        ("4.3.0", "200", True),
    ],
)
def test_what_runs_is_not_refused(version, budget, available_now):
    extra = {"maxOffsetsPerTrigger": budget} if budget else {}
    check_source_runs(source(**extra), available_now, version)
