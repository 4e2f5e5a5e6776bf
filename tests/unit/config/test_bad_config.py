"""Bad configs fail at start through the CLI (exit 2), naming the key; no Spark, no broker."""

import pytest
import yaml

from stream_scorer.cli.main import main
from stream_scorer.config.loader import parse_config
from stream_scorer.devtools.broker import free_port
from stream_scorer.errors import ConfigError, SourceError
from stream_scorer.kafka.options import FORBIDDEN_OPTIONS
from stream_scorer.sources.spark_api import PYSPARK_VERSION, STREAM_SOURCE
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


def test_unreachable_broker_fails_the_topic_check_naming_the_servers_after_the_wait():
    servers = f"127.0.0.1:{free_port()}"
    options = {"kafka.bootstrap.servers": servers, "subscribe": "t"}
    source = {"options": options, "start_check_timeout_s": 0.5}
    config = parse_config({**GOOD, "source": source})
    with pytest.raises(SourceError) as err:
        check_source_topics(config.source)
    assert str(err.value).startswith(f"no Kafka broker answered at {servers} within 0.5s")


def test_bad_trigger_interval_exits_2_in_one_line_naming_key_value_and_need(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, {**GOOD, "trigger": {"processingTime": "2 secs"}})
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'scorer.yaml'}: trigger.processingTime: got '2 secs'; expected: "
        "an interval Spark accepts, like '2 seconds', '500 milliseconds', '1 minute' "
        "('secs' is not a unit; did you mean 'seconds'?)\n"
    )


def test_misspelt_required_key_exits_2_in_one_line_suggesting_the_known_key(tmp_path, capsys):
    config = {k: v for k, v in GOOD.items() if k != "checkpoint"} | {"checkpont": "./cp"}
    code, err = _run(tmp_path, capsys, config)
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'scorer.yaml'}: checkpont: unknown key (value './cp'); "
        "did you mean 'checkpoint'?\n"
    )


def test_misspelt_nested_key_suggests_the_known_key_of_its_section(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, _with("model", allow_library_mismatc=True))
    assert code == 2
    assert "model.allow_library_mismatc: unknown key (value True); " in err
    assert "did you mean 'allow_library_mismatch'?" in err


def test_misspelt_sink_key_suggests_the_key_of_that_sink_kind(tmp_path, capsys):
    sinks = [{"kind": "parquet", "pth": "./out"}]
    code, err = _run(tmp_path, capsys, {**GOOD, "sinks": sinks})
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'scorer.yaml'}: sinks.0.parquet.pth: unknown key (value './out'); "
        "did you mean 'path'?\n"
    )


def test_kafka_sink_option_without_the_kafka_prefix_fails_at_load(tmp_path, capsys):
    sink = {"kind": "kafka", "topic": "out", "options": {"bootstrap.servers": "h:9092"}}
    code, err = _run(tmp_path, capsys, {**GOOD, "sinks": [sink]})
    assert code == 2
    assert "sinks.0.kafka.options: got {...}; expected: only kafka.* producer settings; " in err
    assert "['bootstrap.servers'] are not (write kafka.<name>)" in err


def test_kafka_sink_option_the_producer_lacks_fails_at_load(tmp_path, capsys):
    sink = {"kind": "kafka", "topic": "out", "options": {"kafka.lingr.ms": "5"}}
    code, err = _run(tmp_path, capsys, {**GOOD, "dead_letter": sink})
    assert code == 2
    expected = "librdkafka refused a kafka.* producer option: No such configuration property: "
    assert expected + '"lingr.ms"' in err


def test_missing_model_store_exits_2_naming_file_key_and_directory(tmp_path, capsys):
    code, err = _run(tmp_path, capsys, GOOD)
    assert code == 2
    assert err.startswith(
        f"error: {tmp_path / 'scorer.yaml'}: model.store: {tmp_path / 'models'} does not exist; "
        "publish a model first: stream-scorer model publish MODEL_FILE"
    )


def test_model_store_without_current_exits_2_naming_it(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    code, err = _run(tmp_path, capsys, GOOD)
    assert code == 2
    assert f"model.store: {tmp_path / 'models'} has no CURRENT version; " in err


@pytest.mark.skipif(
    not STREAM_SOURCE, reason=f"pyspark {PYSPARK_VERSION} refuses python-kafka before the broker"
)
def test_run_against_a_port_where_nothing_listens_exits_2_in_one_line(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "CURRENT").write_text("v0001\n")
    servers = f"127.0.0.1:{free_port()}"
    source = {"options": {"kafka.bootstrap.servers": servers, "subscribe": "t"}}
    config = {**GOOD, "source": {**source, "start_check_timeout_s": 0.5}}
    code, err = _run(tmp_path, capsys, config)
    assert code == 2
    assert err == (
        f"error: no Kafka broker answered at {servers} within 0.5s "
        "(source.options.kafka.bootstrap.servers): start the broker or fix the address; "
        "source.start_check_timeout_s sets the wait\n"
    )
    assert "ECONNREFUSED" in (tmp_path / "cp" / "scorer" / "scorer.log").read_text()


def test_an_mlflow_source_has_no_model_store_to_check_before_spark(tmp_path):
    from stream_scorer.cli.commands.run import require_current_model

    model = {"source": "mlflow", "uri": "models:/fraud@champion"}
    config = parse_config({**GOOD, "model": model})

    assert require_current_model(config, tmp_path / "scorer.yaml") is None
