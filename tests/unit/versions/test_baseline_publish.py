"""A baseline published with a version: stored beside it, covered by its sha256 and signature."""

import json

import numpy as np
import pytest

from stream_scorer.cli.main import main
from stream_scorer.devtools.demo_models import demo_features
from stream_scorer.errors import ModelRejectedError
from stream_scorer.monitoring.baseline import Baseline
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.signing import SIGNING_KEY_ENV
from stream_scorer.versions.store import BASELINE_FILE
from stream_scorer.versions.verify import load_verified
from tests.scorer_helpers import NUMERIC


@pytest.fixture
def rows():
    return demo_features(len(NUMERIC), 2_000, np.random.default_rng(3))


def test_publish_stores_the_baseline_of_the_rows_and_the_model_predictions(store, model_file, rows):
    manifest = publish_sklearn(store, model_file("binary"), NUMERIC, baseline=rows)
    baseline = Baseline.from_json(store.baseline(manifest.version))
    assert (baseline.rows, baseline.source) == (2_000, "publish")
    assert list(baseline.features) == list(NUMERIC)
    assert baseline.features["f0"].kind == "numeric" and len(baseline.features["f0"].edges) == 9
    assert baseline.prediction is not None and baseline.prediction.kind == "numeric"
    assert 0.0 <= baseline.prediction.min <= baseline.prediction.max <= 1.0  # P(class 1)
    assert store.is_valid(manifest.version)


def test_a_multiclass_model_baseline_counts_its_classes(store, model_file, rows):
    manifest = publish_sklearn(store, model_file("multiclass"), NUMERIC, baseline=rows)
    prediction = Baseline.from_json(store.baseline(manifest.version)).prediction
    assert prediction is not None and prediction.categories == (0, 1, 2)


def test_a_changed_baseline_is_refused_and_the_version_is_not_valid(store, model_file, rows):
    version = publish_sklearn(store, model_file("binary"), NUMERIC, baseline=rows).version
    path = store.root / version / BASELINE_FILE
    data = json.loads(path.read_text())
    data["features"]["f0"]["fractions"][0] += 0.5
    path.write_text(json.dumps(data))
    with pytest.raises(ModelRejectedError, match=f"the baseline of {version} changed after"):
        store.baseline(version)
    assert not store.is_valid(version)


def test_the_signature_covers_the_baseline_sha256(store, model_file, rows, monkeypatch):
    monkeypatch.setenv(SIGNING_KEY_ENV, "k")
    version = publish_sklearn(store, model_file("binary"), NUMERIC, baseline=rows).version
    path = store.root / version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["extra"]["baseline"]["sha256"] = "0" * 64  # to match a swapped baseline
    path.write_text(json.dumps(manifest))
    with pytest.raises(ModelRejectedError, match="signature does not match"):
        load_verified(store, version, NUMERIC)


def test_a_version_without_baseline_has_none(store, published):
    assert store.baseline(published()) is None


def test_cli_publish_takes_a_csv_baseline(tmp_path, model_file, rows, capsys):
    data = tmp_path / "reference.csv"
    rows.to_csv(data, index=False)
    features = ",".join(f"{n}:double" for n in NUMERIC)
    code = main(
        ["model", "publish", str(model_file("regression")), "--store", str(tmp_path / "s"),
         "--features", features, "--baseline", str(data)]
    )  # fmt: skip
    assert code == 0
    assert "baseline: stored" in capsys.readouterr().out
    assert (tmp_path / "s" / "v0001" / BASELINE_FILE).is_file()


def test_cli_publish_names_missing_baseline_columns(tmp_path, model_file, rows, capsys):
    data = tmp_path / "reference.parquet"
    rows.drop(columns=["f1"]).to_parquet(data)
    features = ",".join(f"{n}:double" for n in NUMERIC)
    code = main(
        ["model", "publish", str(model_file("binary")), "--store", str(tmp_path / "s"),
         "--features", features, "--baseline", str(data)]
    )  # fmt: skip
    assert code == 2
    assert "the baseline rows lack the feature columns ['f1']" in capsys.readouterr().err
