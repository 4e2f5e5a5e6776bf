"""Validation of the Kafka source's options (Spark's names, lower-cased by Spark)."""

import pytest

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.source_options import (
    EARLIEST,
    LATEST,
    parse_options,
    parse_starting_offsets,
)

A0, A1, B0 = ("a", 0), ("a", 1), ("b", 0)
BASE = {"kafka.bootstrap.servers": "127.0.0.1:9092", "subscribe": "a, b"}


def test_defaults_match_sparks_kafka_source():
    opts = parse_options(BASE)
    assert opts.subscription.topics == ("a", "b")
    assert (opts.starting, opts.fail_on_data_loss, opts.include_headers) == ("latest", True, False)
    assert (opts.max_offsets_per_trigger, opts.poll_timeout_ms) == (None, 120_000)


def test_lower_cased_names_are_understood():
    opts = parse_options({**BASE, "maxoffsetspertrigger": "50", "failondataloss": "false"})
    assert (opts.max_offsets_per_trigger, opts.fail_on_data_loss) == (50, False)


def test_misspelt_option_is_refused_naming_the_option_it_resembles():
    with pytest.raises(ConfigError) as err:
        parse_options({"kafka.bootstrap.servers": "h:1", "subscrbe": "a"})
    assert str(err.value) == "unknown option 'subscrbe' (did you mean 'subscribe'?)"


def test_misspelt_option_in_spark_lower_case_is_named_in_sparks_spelling():
    with pytest.raises(ConfigError) as err:
        parse_options({**BASE, "startoffsets": "earliest"})
    assert str(err.value) == "unknown option 'startoffsets' (did you mean 'startingOffsets'?)"


def test_unknown_option_like_none_is_refused_listing_supported_ones():
    with pytest.raises(ConfigError, match=r"unknown option 'colour'; expected one of subscribe, "):
        parse_options({**BASE, "colour": "red"})


def test_spark_kafka_leaves_names_it_does_not_know_to_sparks_connector():
    opts = parse_options({**BASE, "endingOffsets": "latest", "kafka.x.y": "1"}, "spark-kafka")
    assert opts.kafka == {"kafka.bootstrap.servers": "127.0.0.1:9092", "kafka.x.y": "1"}


def test_spark_kafka_still_refuses_a_bad_value_of_a_shared_option():
    with pytest.raises(ConfigError, match="option 'maxOffsetsPerTrigger': got 'lots'"):
        parse_options({**BASE, "maxOffsetsPerTrigger": "lots"}, "spark-kafka")


def test_forbidden_kafka_option_is_refused():
    with pytest.raises(ConfigError, match=r"'kafka\.enable\.auto\.commit' is not allowed"):
        parse_options({**BASE, "kafka.enable.auto.commit": "true"})


def test_unknown_kafka_client_option_is_refused():
    with pytest.raises(ConfigError, match=r"'kafka\.no\.such\.setting'"):
        parse_options({**BASE, "kafka.no.such.setting": "1"})


def test_non_integer_max_offsets_per_trigger_is_refused():
    with pytest.raises(ConfigError, match="option 'maxOffsetsPerTrigger': got 'many'"):
        parse_options({**BASE, "maxOffsetsPerTrigger": "many"})


def test_bad_boolean_is_refused():
    with pytest.raises(ConfigError, match="option 'includeHeaders': got 'yes'"):
        parse_options({**BASE, "includeHeaders": "yes"})


def test_two_subscriptions_are_refused():
    with pytest.raises(ConfigError, match="exactly one of subscribe, subscribePattern, assign"):
        parse_options({**BASE, "subscribePattern": "a.*"})


def test_bad_pattern_is_refused():
    with pytest.raises(ConfigError, match="option 'subscribePattern'"):
        parse_options({"kafka.bootstrap.servers": "h:1", "subscribePattern": "a("})


def test_assign_json_gives_sorted_partitions():
    opts = parse_options({"kafka.bootstrap.servers": "h:1", "assign": '{"t": [1, 0], "s": [2]}'})
    assert opts.subscription.assigned == (("s", 2), ("t", 0), ("t", 1))


def test_bad_assign_is_refused():
    with pytest.raises(ConfigError, match="option 'assign'"):
        parse_options({"kafka.bootstrap.servers": "h:1", "assign": '{"t": "0"}'})


def test_missing_bootstrap_servers_is_refused():
    with pytest.raises(ConfigError, match=r"'kafka\.bootstrap\.servers' is required"):
        parse_options({"subscribe": "a"})


def test_secret_values_never_appear_in_errors():
    secret = 'org.x.PlainLoginModule required username="u" password="hunter2";'
    bad = {**BASE, "kafka.sasl.jaas.config": secret, "maxOffsetsPerTrigger": "x"}
    with pytest.raises(ConfigError) as info:
        parse_options(bad)
    assert "hunter2" not in str(info.value)


def test_kafka_client_defaults_to_confluent_kafka():
    assert parse_options(BASE).kafka_client == "confluent-kafka"


def test_kafka_client_confluent_is_accepted_in_any_case():
    assert parse_options({**BASE, "kafkaclient": "Confluent-Kafka"}).kafka_client == (
        "confluent-kafka"
    )


def test_unknown_kafka_client_is_refused_listing_choices():
    with pytest.raises(ConfigError, match="'kafkaClient': got 'librdkafka'; expected one of"):
        parse_options({**BASE, "kafkaClient": "librdkafka"})


def test_group_id_is_the_commit_group_and_absent_by_default():
    assert parse_options(BASE).group_id is None
    assert parse_options({**BASE, "kafka.group.id": "scorers"}).group_id == "scorers"


@pytest.mark.parametrize("word", ["earliest", "latest", " Latest "])
def test_starting_offsets_keywords(word):
    assert parse_starting_offsets(word) == word.strip().lower()


def test_starting_offsets_json_with_earliest_and_latest_markers():
    parsed = parse_starting_offsets('{"a": {"0": 23, "1": -2}, "b": {"0": -1}}')
    assert parsed == {A0: 23, A1: EARLIEST, B0: LATEST}


@pytest.mark.parametrize(
    "value", ["first", "{", "[1, 2]", "{}", '{"a": [1]}', '{"a": {"x": 1}}', '{"a": {"0": "5"}}']
)
def test_bad_starting_offsets_raise_config_error_naming_the_key(value):
    with pytest.raises(ConfigError, match="option 'startingOffsets'"):
        parse_starting_offsets(value)


def test_starting_offset_below_minus_two_is_refused():
    with pytest.raises(ConfigError, match="below -2"):
        parse_starting_offsets('{"a": {"0": -3}}')


def test_high_watermark_probe_defaults_to_auto():
    assert parse_options(BASE).high_watermark_probe == "auto"


def test_high_watermark_probe_accepts_always_and_never_in_any_case():
    assert parse_options({**BASE, "highwatermarkprobe": "ALWAYS"}).high_watermark_probe == "always"
    assert parse_options({**BASE, "highWatermarkProbe": "never"}).high_watermark_probe == "never"


def test_bad_high_watermark_probe_is_refused_naming_the_choices():
    with pytest.raises(ConfigError) as err:
        parse_options({**BASE, "highWatermarkProbe": "sometimes"})
    assert str(err.value) == (
        "option 'highWatermarkProbe': got 'sometimes'; expected one of auto, always, never"
    )
