"""A big booster is distributed like any big model: one verified copy per machine (the cache
file), from which each worker loads it; never forced to a broadcast as a family is."""

from pathlib import Path

import pytest

from stream_scorer.config.model_settings import TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.factory import _broadcast_only, _mapped_file
from stream_scorer.flavors.base import BROADCAST_KINDS, load_predictor
from stream_scorer.flavors.trees.predictor import TreesPredictor, typed_frame
from stream_scorer.versions.publish import publish_trees
from stream_scorer.versions.sources.store import StoreSource
from stream_scorer.versions.store import ModelStore
from tests.trees_helpers import FEATURES, LIBRARIES, records, train


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_booster_above_the_threshold_is_served_from_the_machines_cache_copy(
    tmp_path, library
) -> None:
    pytest.importorskip(library, reason=f"the {library} extra is not installed")
    _, path = train(library, "binary", tmp_path)
    store = ModelStore(tmp_path / "models")
    manifest = publish_trees(
        store, path, library, FeaturesConfig(schema=FEATURES), TreesModelConfig()
    )
    source = StoreSource(str(store.root), "CURRENT")

    shared = _mapped_file(source, manifest.version, threshold=1)
    cache = ArtefactCache(str(tmp_path / "cache"), keep=2)
    assert shared is not None
    copy = cache.materialise(shared.url, manifest.sha256, Path(shared.url).suffix, shared.options)
    predictor = load_predictor(copy, manifest)

    assert library not in BROADCAST_KINDS and not _broadcast_only(source, manifest.version)
    assert shared.url == str(store.root / manifest.version / manifest.file)
    assert isinstance(predictor, TreesPredictor)
    rows = [{name: row.get(name) for name in FEATURES} for row in records(5)]
    frame = typed_frame(rows, manifest)
    direct = load_predictor(store.read_artifact(manifest.version), manifest).predict(frame)
    assert predictor.predict(frame).probability.tolist() == direct.probability.tolist()
