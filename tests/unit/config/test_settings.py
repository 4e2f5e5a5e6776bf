"""Config loading: a bad config fails at start naming the key, the value and the need."""

import pytest

from stream_scorer.config import load_config
from stream_scorer.errors import ConfigError

GOOD = """
source:
  options:
    kafka.bootstrap.servers: ${BROKER:-127.0.0.1:9092}
    subscribe: features
    maxOffsetsPerTrigger: 1000
features:
  schema: {f0: double, name: string}
  passthrough: [id]
model: {store: ./models}
checkpoint: ./cp
sinks: [{kind: parquet, path: ./out}]
dead_letter: {kind: console}
"""


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_good_config_loads_with_typed_defaults(tmp_path):
    config = load_config(write(tmp_path, GOOD), env={})
    assert config.source.kind == "python-kafka"
    assert config.source.options["maxOffsetsPerTrigger"] == "1000"
    assert config.source.options["kafka.bootstrap.servers"] == "127.0.0.1:9092"
    assert list(config.features.feature_schema) == ["f0", "name"]
    assert config.features.passthrough == {"id": "string"}
    assert config.trigger.processingTime == "1 second"


def test_source_options_are_parsed_when_the_config_loads(tmp_path):
    parsed = load_config(write(tmp_path, GOOD), env={}).source.parsed
    assert (parsed.subscription.topics, parsed.max_offsets_per_trigger) == (("features",), 1000)
    assert parsed.kafka == {"kafka.bootstrap.servers": "127.0.0.1:9092"}


def test_environment_overrides_a_referenced_value(tmp_path):
    config = load_config(write(tmp_path, GOOD), env={"BROKER": "kafka:9092"})
    assert config.source.options["kafka.bootstrap.servers"] == "kafka:9092"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("model: {store: ./models}", "model: {store: ./models, colour: red}"), "model.colour"),
        (("f0: double", "f0: dbl"), "features.schema.f0: got 'dbl'"),
        (("    subscribe: features\n", ""), "exactly one of subscribe"),
        (
            ("subscribe: features", "subscribe: features\n    kafka.enable.auto.commit: true"),
            "kafka.enable.auto.commit",
        ),
        (("{kind: parquet, path: ./out}", "{kind: parquet}"), "sinks.0.parquet.path: missing"),
        (("{kind: console}", "{kind: hdfs}"), "dead_letter"),
    ],
)
def test_bad_config_names_key_and_value(tmp_path, change, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace(*change)), env={})
    assert expected in str(err.value)
    assert str(tmp_path / "c.yaml") in str(err.value)


def test_output_options_are_off_by_default(tmp_path):
    config = load_config(write(tmp_path, GOOD), env={})

    assert config.output.model_dump() == {
        "include_key": False,
        "key_format": "binary",
        "include_features": False,
    }
    assert config.features.missing_passthrough == "null"


def test_yaml_null_for_missing_passthrough_means_null(tmp_path):
    text = GOOD.replace("passthrough: [id]", "passthrough: [id]\n  missing_passthrough: null")

    assert load_config(write(tmp_path, text), env={}).features.missing_passthrough == "null"


def test_included_features_may_not_shadow_an_output_column(tmp_path):
    text = GOOD.replace("name: string", "offset: string") + "output: {include_features: true}\n"

    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})

    assert "output.include_features: features ['offset'] would shadow output columns" in str(
        err.value
    )


def test_included_features_need_columnar_input(tmp_path):
    text = GOOD.replace(
        "schema: {f0: double, name: string}\n  passthrough: [id]",
        "format: tensor\n  tensor_shape: [2]",
    )

    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text + "output: {include_features: true}\n"), env={})

    assert "output.include_features needs features.format json or avro, not tensor" in str(
        err.value
    )


def test_unreadable_avro_schema_file_is_named_at_its_key(tmp_path):
    text = GOOD.replace(
        "schema: {f0: double, name: string}",
        "format: avro\n  avro_schema: missing.avsc\n  schema: {f0: double, name: string}",
    )

    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})

    assert "features.avro_schema: got " in str(err.value)
    assert "expected: a readable .avsc file (No such file or directory)" in str(err.value)


def test_secret_values_never_appear_in_errors(tmp_path):
    text = GOOD.replace(
        "subscribe: features",
        "subscribe: features\n    kafka.sasl.jaas.config: [s3cr3t-value]",
    )
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})
    assert "s3cr3t-value" not in str(err.value)


def test_unset_variable_without_default_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="environment variable HOSTX is not set"):
        load_config(write(tmp_path, GOOD.replace("${BROKER:-127.0.0.1:9092}", "${HOSTX}")), env={})


def test_mlflow_source_takes_a_model_uri_and_a_shadow_alias(tmp_path):
    text = GOOD.replace(
        "model: {store: ./models}",
        "model: {source: mlflow, uri: 'models:/fraud@champion', shadow: '@challenger'}",
    )
    model = load_config(write(tmp_path, text), env={}).model
    assert (model.source, model.uri, model.shadow, model.store) == (
        "mlflow",
        "models:/fraud@champion",
        "@challenger",
        None,
    )


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("{source: mlflow}", "model.uri: 'models:/NAME@ALIAS' (source: mlflow)"),
        (
            "{source: mlflow, uri: 'fraud@champion'}",
            "model.uri: 'fraud@champion' is not an MLflow model URI",
        ),
        (
            "{source: mlflow, uri: 'models:/fraud@champion', shadow: challenger}",
            "model.shadow: '@ALIAS' or 'challenger' is not an MLflow model URI",
        ),
        ("{source: store}", "model.store: the model store directory (source: store)"),
        (
            "{store: ./models, shadow: '@challenger'}",
            "model.shadow '@challenger': 'latest' or a version like 'v0003'",
        ),
    ],
)
def test_bad_model_source_settings_name_the_key(tmp_path, model, expected):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace("{store: ./models}", model)), env={})
    assert expected in str(err.value)


def test_mlflow_source_with_image_input_is_refused_pointing_at_the_store(tmp_path):
    text = GOOD.replace(
        "model: {store: ./models}", "model: {source: mlflow, uri: 'models:/cnn@champion'}"
    ).replace("  schema: {f0: double, name: string}\n  passthrough: [id]\n", "  format: image\n")

    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), env={})

    assert "model.source mlflow serves scikit-learn models over JSON features" in str(err.value)
    assert "model.source: store" in str(err.value)
