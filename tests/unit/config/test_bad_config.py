"""Bad configs fail at start through the CLI (exit 2), naming the key; no Spark, no broker."""

import pytest
import yaml

from stream_scorer.cli.main import main
from stream_scorer.config.loader import parse_config
from stream_scorer.devtools.broker import free_port
from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.options import FORBIDDEN_OPTIONS
from stream_scorer.sources.topic_check import check_source_topics

GOOD = {
    "source": {"options": {"kafka.bootstrap.servers": "127.0.0.1:9092", "subscribe": "t"}},
    "features": {"schema": {"f0": "double"}},
    "model": {"store": "./models"},
    "checkpoint": "./cp",
    "sinks": [{"kind": "parquet", "path": "./out"}],
    "dead_letter": {"kind": "console"},
}


def _run(tmp_path, capsys, config: dict) -> tuple[int, str]:
    path = tmp_path / "scorer.yaml"
    path.write_text(yaml.safe_dump(config))
    code = main(["run", "--config", str(path)])
    return code, capsys.readouterr().err


def _with(section: str, **values) -> dict:
    return {**GOOD, section: {**GOOD[section], **values}}


def test_unknown_key_exits_2_naming_it(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, _with("model", colour="red"))
    assert code == 2
    assert "model.colour: unknown key (value 'red')" in err


def test_unknown_top_level_key_exits_2_naming_it(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {**GOOD, "sink": []})
    assert code == 2
    assert "sink: unknown key" in err


def test_wrong_type_exits_2_naming_key_value_and_need(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, _with("model", worker_cache_versions="many"))
    assert code == 2
    assert "model.worker_cache_versions: got 'many'; expected: " in err
    assert "integer" in err


@pytest.mark.parametrize("key", sorted(FORBIDDEN_OPTIONS))
def test_forbidden_kafka_option_exits_2_naming_it(tmp_path, capsys, key):
    options = {**GOOD["source"]["options"], key: "x"}
    code, err = _run(tmp_path, capsys, {**GOOD, "source": {"options": options}})
    assert code == 2
    assert f"option '{key}' is not allowed: {FORBIDDEN_OPTIONS[key]}" in err


def test_misspelt_kafka_option_fails_at_config_load_before_any_network_call():
    options = {**GOOD["source"]["options"], "kafka.sasl.pasword": "x"}
    with pytest.raises(ConfigError) as err:
        parse_config({**GOOD, "source": {"options": options}})
    assert "option 'kafka.sasl.pasword' has no equivalent" in str(err.value)


def test_misspelt_source_option_exits_2_suggesting_the_right_name(tmp_path, capsys):
    options = {"kafka.bootstrap.servers": "127.0.0.1:9092", "subscrbe": "t"}
    code, err = _run(tmp_path, capsys, {**GOOD, "source": {"options": options}})
    assert code == 2
    assert "source.options: unknown option 'subscrbe' (did you mean 'subscribe'?)" in err


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("startingOffsets", "beginning", 'expected earliest, latest or JSON like {"topic"'),
        ("maxOffsetsPerTrigger", "lots", "expected a positive integer"),
    ],
)
def test_bad_source_option_value_exits_2_naming_key_value_and_need(
    tmp_path, capsys, key, value, expected
):
    options = {**GOOD["source"]["options"], key: value}
    code, err = _run(tmp_path, capsys, {**GOOD, "source": {"options": options}})
    assert code == 2
    assert f"source.options: option '{key}': got '{value}'; {expected}" in err


def test_unreachable_broker_fails_the_topic_check_naming_the_servers_after_the_retries():
    servers = f"127.0.0.1:{free_port()}"
    options = {
        "kafka.bootstrap.servers": servers,
        "kafka.bootstrap.timeout.ms": "500",
        "subscribe": "t",
        "fetchOffset.numRetries": "1",
        "fetchOffset.retryIntervalMs": "10",
    }
    config = parse_config({**GOOD, "source": {"options": options}})
    with pytest.raises(SourceError) as err:
        check_source_topics(config.source)
    assert f"Kafka source could not connect on {servers} after 2 attempt(s)" in str(err.value)
