"""`stream-scorer status` on a local checkpoint: read without Spark, a missing one refused."""

import json

import pytest
import yaml

from stream_scorer.cli.main import main
from tests.checkpoint_helpers import make_checkpoint


@pytest.fixture
def config_file(tmp_path):
    config = {
        "source": {"options": {"kafka.bootstrap.servers": "127.0.0.1:9", "subscribe": "t"}},
        "features": {"schema": {"f0": "double"}},
        "model": {"store": str(tmp_path / "models")},
        "checkpoint": str(tmp_path / "checkpoint"),
        "sinks": [{"kind": "parquet", "path": str(tmp_path / "predictions")}],
        "dead_letter": {"kind": "parquet", "path": str(tmp_path / "dead-letter")},
    }
    path = tmp_path / "scorer.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_missing_checkpoint_says_no_checkpoint_and_exits_2(tmp_path, config_file, capsys):
    assert main(["status", "--config", str(config_file)]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"error: no checkpoint at {tmp_path / 'checkpoint'}: ")


def test_json_shows_the_last_commit_its_offsets_and_the_status_file(tmp_path, config_file, capsys):
    root = make_checkpoint(tmp_path / "checkpoint", offsets=(0, 1, 2), commits=(0, 1))
    (root / "scorer").mkdir()
    (root / "scorer" / "status.json").write_text('{"batch_id": 1, "model_version": "v0003"}')

    assert main(["status", "--config", str(config_file), "--json"]) == 0

    status = json.loads(capsys.readouterr().out)
    assert status["last_committed_batch"] == 1
    assert status["committed_offsets"] == [{"t": {"0": 60}}]
    assert status["serving_model"] == "v0003"
    assert status["current_model"] is None
    assert status["last_progress"]["batch_id"] == 1
