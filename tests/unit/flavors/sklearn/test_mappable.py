"""Publish stores big compressed joblib models uncompressed, so that workers can map them."""

import joblib

from stream_scorer.flavors.sklearn.mappable import STORED_UNCOMPRESSED
from stream_scorer.versions.publish import publish_sklearn
from tests.scorer_helpers import NUMERIC


def _compressed(tmp_path, demo_model):
    path = tmp_path / "compressed.joblib"
    joblib.dump(demo_model("binary"), path, compress=3)
    return path


def test_big_compressed_joblib_is_stored_uncompressed(store, tmp_path, demo_model):
    manifest = publish_sklearn(
        store, _compressed(tmp_path, demo_model), NUMERIC, mapped_above_bytes=0
    )

    stored = store.read_artifact(manifest.version)
    assert stored[:1] == b"\x80"
    assert manifest.extra == {STORED_UNCOMPRESSED: True}
    assert store.is_valid(manifest.version)


def test_small_compressed_joblib_is_stored_as_given(store, tmp_path, demo_model):
    path = _compressed(tmp_path, demo_model)

    manifest = publish_sklearn(store, path, NUMERIC, mapped_above_bytes=1 << 30)

    assert store.read_artifact(manifest.version) == path.read_bytes()
    assert manifest.extra == {}
