"""The scored row's struct: included features first, then passthrough, then model outputs."""

from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.scoring.output import scored_struct, udf_struct


def _regressor() -> Manifest:
    return Manifest(
        version="v0001",
        file="model.joblib",
        format="joblib",
        sha256="0" * 64,
        feature_names=["visits", "spend"],
        feature_types={"visits": "long", "spend": "double"},
        input_layout="frame",
        task="regression",
        prediction_type="double",
        classes=None,
        library_versions={},
        created_at="2026-01-01T00:00:00+00:00",
        canary=Canary(rows=[], predictions=[]),
        estimator="Ridge",
    )


def test_scored_row_holds_included_features_before_passthrough():
    features = {"visits": "long", "spend": "double"}

    row = scored_struct(_regressor(), {"id": "string"}, features)

    assert [(f.name, f.dataType.simpleString()) for f in row.fields] == [
        ("visits", "bigint"),
        ("spend", "double"),
        ("id", "string"),
        ("prediction", "double"),
        ("model_version", "string"),
        ("scored_at", "timestamp"),
        ("error", "string"),
    ]


def test_udf_struct_without_features_starts_with_passthrough():
    assert udf_struct(_regressor(), {"id": "string"}).names[:2] == ["id", "prediction"]
