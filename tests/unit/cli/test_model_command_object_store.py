"""`stream-scorer model publish | list | show | promote | rollback` on an object store: S3
(moto), GCS (fake-gcs-server) and Azure Blob (Azurite), named by `--config`."""

import yaml

from tests.unit.cli.test_model_command import FEATURES, run


def _config(tmp_path, server, store: str) -> str:
    path = tmp_path / "scorer.yaml"
    config = {
        "source": {"options": {"kafka.bootstrap.servers": "127.0.0.1:9092", "subscribe": "f"}},
        "features": {"schema": {f"f{i}": "double" for i in range(4)}},
        "model": {"store": store, "store_options": server.options},
        "checkpoint": str(tmp_path / "checkpoint"),
        "sinks": [{"kind": "console"}],
        "dead_letter": {"kind": "console"},
    }
    path.write_text(yaml.safe_dump(config))
    return str(path)


def test_model_commands_manage_an_object_store_named_by_the_config(
    tmp_path, object_server, model_file, capsys
):
    url = f"{object_server.scheme}://{object_server.new_bucket()}/models"
    config = _config(tmp_path, object_server, url)
    for seed in range(2):
        assert run("model", "publish", str(model_file(seed=seed)), "--config", config) == 0
    assert capsys.readouterr().out.endswith("CURRENT -> v0002 (was v0001)\n")

    assert run("model", "list", "--config", config) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line[:9] for line in listed] == ["  VERSION", "  v0001  ", "* v0002  "]

    assert run("model", "rollback", "--config", config) == 0
    assert capsys.readouterr().out == "CURRENT -> v0001 (was v0002)\n"
    assert run("model", "promote", "v0002", "--store", url, "--config", config) == 0
    assert capsys.readouterr().out == "CURRENT -> v0002 (was v0001)\n"
    assert run("model", "show", "--config", config) == 0
    assert "v0002" in capsys.readouterr().out

    assert object_server.open(url).current_version() == "v0002"


def test_publish_to_s3_with_the_environments_credentials(s3, model_file, monkeypatch, capsys):
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    url = f"s3://{s3.new_bucket()}/models"

    assert run("model", "publish", str(model_file()), "--store", url, "--features", FEATURES) == 0
    assert capsys.readouterr().out.endswith("CURRENT -> v0001 (was none)\n")
