"""A store written before the model path moved into contract/, flavors/ and versions/ still
serves: manifests and artefacts name no module of ours, so no version depends on our layout.

`tests/data/store-before-layers` was written by that earlier layout: v0001 a scikit-learn
pipeline (joblib), v0002 a per-key family of Ridge models (not CURRENT).
"""

import shutil
from pathlib import Path

import pandas as pd
import pytest

from stream_scorer.versions.store import ModelStore
from stream_scorer.versions.verify import load_verified
from tests.scorer_helpers import NUMERIC

OLD_STORE = Path(__file__).parents[2] / "data" / "store-before-layers"


@pytest.fixture
def store(tmp_path) -> ModelStore:
    shutil.copytree(OLD_STORE, tmp_path / "store")
    return ModelStore(tmp_path / "store")


def test_old_store_lists_its_versions_and_current(store):
    assert store.versions() == ["v0001", "v0002"]
    assert store.current_version() == "v0001"
    assert all(store.is_valid(v) for v in store.versions())


def test_old_pipeline_version_loads_verified_and_predicts_its_canary(store):
    manifest = store.manifest("v0001")
    verified = load_verified(store, "v0001", {"f0": "double", "f1": "double"})
    rows = pd.DataFrame(manifest.canary.rows)
    result = verified.predictor.predict(rows)
    assert result.prediction.tolist() == manifest.canary.predictions
    assert result.errors == [None] * len(rows)


def test_old_family_version_loads_verified_with_route_by(store):
    verified = load_verified(store, "v0002", NUMERIC, route_by="store")
    assert verified.manifest.kind == "family"
    assert verified.version == "v0002"
