"""Relative paths in a config file resolve against the file's folder; URLs stay as written."""

from pathlib import Path

import pytest
import yaml

from stream_scorer.config import load_config
from stream_scorer.config.loader import parse_config
from stream_scorer.errors import ConfigError

CONFIG = {
    "source": {"options": {"kafka.bootstrap.servers": "127.0.0.1:9092", "subscribe": "t"}},
    "features": {"schema": {"f0": "double"}},
    "model": {"store": "models"},
    "checkpoint": "../state/checkpoint",
    "sinks": [{"kind": "parquet", "path": "./out/predictions"}],
    "dead_letter": {"kind": "parquet", "path": "hdfs://nn:8020/dead-letter"},
    "logging": {"file": "logs/scorer.log"},
}


def _load(folder: Path, config: dict):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scorer.yaml"
    path.write_text(yaml.safe_dump(config))
    return load_config(path, env={})


def test_relative_paths_resolve_against_the_config_files_folder(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    config = _load(tmp_path / "configs", CONFIG)
    assert config.checkpoint == str(tmp_path / "state" / "checkpoint")
    assert config.model.store == str(tmp_path / "configs" / "models")
    assert config.sinks[0].path == str(tmp_path / "configs" / "out" / "predictions")
    assert config.logging.file == str(tmp_path / "configs" / "logs" / "scorer.log")


def test_urls_with_a_scheme_are_left_as_written(tmp_path):
    config = _load(tmp_path, CONFIG)
    assert config.dead_letter.path == "hdfs://nn:8020/dead-letter"


def test_absolute_paths_are_left_as_written(tmp_path):
    config = _load(tmp_path, {**CONFIG, "checkpoint": "/data/checkpoint"})
    assert config.checkpoint == "/data/checkpoint"


def test_a_mapping_without_a_file_keeps_relative_paths():
    assert parse_config(CONFIG).checkpoint == "../state/checkpoint"


def test_a_model_store_url_is_kept_as_written(tmp_path):
    model = {"store": "s3://bucket/models", "store_options": {"endpoint_url": "http://x:9000"}}
    config = _load(tmp_path, {**CONFIG, "model": model})
    assert config.model.store == "s3://bucket/models"
    assert config.model.store_options == {"endpoint_url": "http://x:9000"}


def test_a_model_store_url_of_another_scheme_is_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, {**CONFIG, "model": {"store": "http://host/models"}})
    assert "model: " in str(err.value)
    assert "'http://host/models': a directory, or a URL of s3, s3a, gs, gcs" in str(err.value)


def test_model_cache_dir_resolves_against_the_config_files_folder(tmp_path, monkeypatch):
    monkeypatch.chdir("/")
    model = {"store": "models", "cache_dir": "cache/models"}
    config = _load(tmp_path / "configs", {**CONFIG, "model": model})
    assert config.model.cache_dir == str(tmp_path / "configs" / "cache" / "models")


def test_model_cache_dir_unset_stays_unset(tmp_path):
    assert _load(tmp_path, CONFIG).model.cache_dir is None


def test_a_model_cache_dir_url_is_refused_naming_the_key(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, {**CONFIG, "model": {"store": "models", "cache_dir": "hdfs://nn/c"}})
    assert str(err.value) == (
        f"{tmp_path / 'scorer.yaml'}: model.cache_dir: got 'hdfs://nn/c'; expected: a local "
        "directory; it is a folder on each machine, the driver's and every executor's"
    )
