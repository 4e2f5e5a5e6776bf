"""Exactly-once Kafka sink settings: what a transactional producer cannot take fails at start,
naming the key, the value and what is expected."""

import pytest

from stream_scorer.config import load_config
from stream_scorer.errors import ConfigError
from tests.unit.config.test_settings import GOOD, write

EOS = "{kind: kafka, topic: out, exactly_once: true"


def sinks(text: str) -> str:
    return GOOD.replace("[{kind: parquet, path: ./out}]", f"[{text}]")


def test_exactly_once_loads_and_defaults_to_at_least_once(tmp_path):
    text = sinks(f"{EOS}}}, {{kind: kafka, topic: other}}")
    eos, plain = load_config(write(tmp_path, text), env={}).sinks
    assert (eos.exactly_once, plain.exactly_once) == (True, False)


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("kafka.acks: '1'", "option 'kafka.acks' is '1'; expected all (or -1)"),
        ("kafka.enable.idempotence: 'false'", "idempotence' is 'false'; expected true"),
        ("kafka.retries: '0'", "option 'kafka.retries' is '0'; expected a number above 0"),
        (
            "kafka.max.in.flight.requests.per.connection: '6'",
            "'kafka.max.in.flight.requests.per.connection' is '6'; expected 1 to 5",
        ),
    ],
)
def test_a_producer_option_against_idempotence_is_refused(tmp_path, option, expected):
    with pytest.raises(ConfigError, match=r"c\.yaml") as err:
        load_config(write(tmp_path, sinks(f"{EOS}, options: {{{option}}}}}")), env={})
    assert "exactly_once needs an idempotent producer" in str(err.value)
    assert expected in str(err.value)


def test_acks_all_is_taken(tmp_path):
    text = sinks(f"{EOS}, options: {{kafka.acks: all, kafka.retries: '3'}}}}")
    assert load_config(write(tmp_path, text), env={}).sinks[0].exactly_once


def test_a_transactional_id_by_hand_is_refused(tmp_path):
    text = sinks("{kind: kafka, topic: out, options: {kafka.transactional.id: x}}")
    with pytest.raises(ConfigError, match=r"'kafka\.transactional\.id' is not set by hand"):
        load_config(write(tmp_path, text), env={})


@pytest.mark.parametrize("option", ["minPartitions", "maxRecordsPerPartition"])
def test_a_source_that_splits_partitions_is_refused_beside_it(tmp_path, option):
    split = f"subscribe: features\n    {option}: '4'"
    text = sinks(f"{EOS}}}").replace("subscribe: features", split)
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})
    assert f"source option '{option}' is '4' beside the exactly-once Kafka sink" in str(err.value)
    assert "expected it unset" in str(err.value)
