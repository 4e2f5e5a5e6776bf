"""A subscription to topics that do not exist fails at start, naming the key and the topic."""

import logging

import pytest
import yaml
from kafka import KafkaAdminClient

from stream_scorer.cli.main import main
from tests.kafka_helpers import create_topic, produce_exact
from tests.scorer_helpers import NUMERIC, encode, publish, records
from tests.scorer_process import write_config

pytestmark = pytest.mark.integration


def _config(tmp_path, bootstrap, subscription: dict[str, str]):
    """A run config whose source subscribes with `subscription`; a model is published."""
    path = write_config(tmp_path, bootstrap, "unused")
    config = yaml.safe_load(path.read_text())
    del config["spark"]  # in-process runs share the tests' session; keep its settings
    options = config["source"]["options"]
    del options["subscribe"]
    options.update(subscription)
    path.write_text(yaml.safe_dump(config))
    publish(tmp_path / "models", "binary", NUMERIC)
    return path


def _topics(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


@pytest.mark.parametrize("option", ["subscribe", "assign"])
def test_a_missing_topic_fails_at_start_naming_key_and_topic(
    tmp_path, spark, bootstrap, capsys, option
):
    existing = create_topic(bootstrap, 1)
    missing = f"{existing}-absent"
    value = f"{existing},{missing}" if option == "subscribe" else f'{{"{missing}": [0, 1]}}'
    path = _config(tmp_path, bootstrap, {option: value})

    assert main(["run", "--config", str(path), "--once"]) == 2

    err = capsys.readouterr().err
    assert f"option 'source.options.{option}': topic(s) ['{missing}'] do not exist" in err
    assert missing not in _topics(bootstrap)
    assert not (tmp_path / "checkpoint" / "offsets").exists()


def test_pattern_matching_no_topic_yet_only_warns(tmp_path, spark, bootstrap, caplog):
    prefix = create_topic(bootstrap, 1)
    path = _config(tmp_path, bootstrap, {"subscribePattern": f"{prefix}-later-.*"})

    with caplog.at_level(logging.WARNING, logger="stream_scorer.sources.topic_check"):
        assert main(["run", "--config", str(path), "--once"]) == 0

    assert f"subscribePattern '{prefix}-later-.*' matches no topic" in caplog.text


def test_subscribe_to_an_existing_topic_starts_and_scores(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(5), NUMERIC))})
    path = _config(tmp_path, bootstrap, {"subscribe": topic})

    assert main(["run", "--config", str(path), "--once"]) == 0

    assert len(spark.read.parquet(str(tmp_path / "predictions")).collect()) == 5
