"""configs/local.yaml, the config of `stream-scorer run` on this machine, is valid."""

from pathlib import Path

from stream_scorer.config import load_config

LOCAL = Path(__file__).resolve().parents[3] / "configs" / "local.yaml"


def test_local_config_validates_with_its_defaults():
    config = load_config(LOCAL, env={})
    assert config.source.options["kafka.bootstrap.servers"] == "127.0.0.1:9092"
    assert config.source.options["subscribe"] == "features"


def test_local_config_takes_the_bootstrap_from_the_environment():
    config = load_config(LOCAL, env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:19092"})
    assert config.source.options["kafka.bootstrap.servers"] == "127.0.0.1:19092"


def test_local_config_paths_resolve_into_the_repository_root_from_any_folder(monkeypatch):
    monkeypatch.chdir("/")
    config = load_config(LOCAL, env={})
    root = LOCAL.parents[1]
    assert (config.checkpoint, config.model.store) == (
        str(root / "state" / "checkpoint"),
        str(root / "models"),
    )
    assert config.sinks[0].path == str(root / "out" / "predictions")
