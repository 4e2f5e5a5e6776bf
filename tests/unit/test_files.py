"""Locations of checkpoint files: local or Hadoop, and joined without losing a URL's `//`."""

import pytest

from stream_scorer.errors import ScorerError
from stream_scorer.files import LocalFiles, files_at, is_local, join


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("state/checkpoint", True),
        ("/tmp/checkpoint", True),
        ("file:/tmp/checkpoint", True),
        ("file:///tmp/checkpoint", True),
        ("hdfs://namenode:8020/checkpoint", False),
        ("s3a://bucket/checkpoint", False),
    ],
)
def test_is_local_only_for_paths_and_file_urls(url, local):
    assert is_local(url) is local


def test_join_keeps_the_double_slash_of_a_url():
    assert join("hdfs://nn:8020/cp/", "sinks", "0-parquet") == "hdfs://nn:8020/cp/sinks/0-parquet"


def test_file_url_is_read_from_its_path(tmp_path):
    (tmp_path / "metadata").write_text("{}")
    files = files_at(f"file://{tmp_path}")
    assert isinstance(files, LocalFiles)
    assert files.read("metadata") == "{}"


def test_hadoop_url_without_a_spark_session_names_the_url(monkeypatch):
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))
    with pytest.raises(ScorerError, match=r"^s3a://bucket/cp: reading a Hadoop URL needs a Spark"):
        files_at("s3a://bucket/cp")


def test_local_list_of_a_missing_directory_is_empty(tmp_path):
    assert LocalFiles(str(tmp_path)).list("commits") == []
