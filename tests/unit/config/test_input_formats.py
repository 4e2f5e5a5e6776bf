"""features.format avro, image and tensor: what each takes, and configs refused with the reason."""

import pytest
from pydantic import ValidationError

from stream_scorer.config.model_settings import ImagePreprocessingConfig
from stream_scorer.config.settings import FeaturesConfig


def test_tensor_format_signature_names_its_shape():
    features = FeaturesConfig(format="tensor", tensor_shape=[3, 8])

    assert features.input_signature == "tensor float32[3, 8]"


def test_json_format_keeps_needing_a_schema():
    with pytest.raises(ValidationError, match="format json needs a non-empty schema"):
        FeaturesConfig()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"format": "image", "schema": {"f0": "double"}}, "format image takes no schema"),
        ({"format": "tensor"}, "tensor_shape is required by format tensor and only there"),
        ({"format": "tensor", "tensor_shape": [0, 2]}, "tensor_shape [0, 2] needs one or more"),
        ({"schema": {"f0": "double"}, "image_field": "img"}, "image_field is for format image"),
        (
            {"format": "image", "passthrough": {"id": "long"}},
            "passthrough needs records: format json or avro, or image_field",
        ),
        (
            {"format": "tensor", "tensor_shape": [2], "missing_passthrough": "dead_letter"},
            "missing_passthrough dead_letter is for formats json and avro only",
        ),
        (
            {"format": "avro", "schema": {"f0": "double"}},
            "format avro needs exactly one of schema_registry or avro_schema",
        ),
        (
            {
                "format": "avro",
                "schema": {"f0": "double"},
                "avro_schema": "a.avsc",
                "schema_registry": {"url": "http://registry:8081"},
            },
            "format avro needs exactly one of schema_registry or avro_schema",
        ),
        (
            {"schema": {"f0": "double"}, "schema_registry": {"url": "http://registry:8081"}},
            "schema_registry and avro_schema are for format avro only",
        ),
        (
            {
                "format": "avro",
                "schema": {"n": "string"},
                "nullable": ["n"],
                "schema_registry": {"url": "http://registry:8081"},
            },
            "nullable ['n']: format avro takes only features of features.schema typed "
            "double or float",
        ),
    ],
)
def test_field_that_does_not_fit_the_format_is_refused_with_the_reason(fields, reason):
    with pytest.raises(ValidationError, match=reason.replace("[", r"\[").replace("]", r"\]")):
        FeaturesConfig(**fields)


def test_avro_features_take_the_json_signature_and_read_the_schema_file(tmp_path):
    path = tmp_path / "f.avsc"
    path.write_text('{"type": "record", "name": "F", "fields": [{"name": "f0", "type": "double"}]}')
    features = FeaturesConfig(format="avro", schema={"f0": "double"}, avro_schema=str(path))

    assert features.input_signature == "json"  # the same columns: the same models serve
    assert features.writer_schema is not None
    assert features.writer_schema["fields"] == [{"name": "f0", "type": "double"}]


def test_registry_credentials_never_appear_in_reprs():
    features = FeaturesConfig(
        format="avro",
        schema={"f0": "double"},
        schema_registry={"url": "http://registry:8081", "basic_auth_user_info": "me:s3cr3t"},
    )

    assert "s3cr3t" not in repr(features)


def test_image_passthrough_is_read_from_the_json_object_holding_the_image():
    features = FeaturesConfig(format="image", image_field="img", passthrough=["id"])

    assert features.passthrough == {"id": "string"}


def test_per_channel_mean_must_match_the_color():
    reason = "mean has 3 values; give 1, or 1 per grayscale channel"
    with pytest.raises(ValidationError, match=reason):
        ImagePreprocessingConfig(color="grayscale", mean=[0.1, 0.2, 0.3])
