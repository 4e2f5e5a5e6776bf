"""XGBoost, LightGBM and CatBoost models in their own formats, end to end: trained here,
saved natively, published, scored from the real broker by a real query; every prediction is
the library's own on that row, missing values and a categorical field included; a reload
from one library to another; a truncated model file never serves."""

import numpy as np
import orjson
import pytest

from stream_scorer.config.model_settings import ModelConfig, TreesModelConfig
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.errors import ModelRejectedError
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.versions.publish import publish_trees
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact
from tests.scorer_helpers import coordinates, read_sink, reloaded_at, scorer_config
from tests.trees_helpers import FEATURES, LIBRARIES, TASKS, expected, records, train

pytestmark = pytest.mark.integration

RECORDS = 60
NULLABLE = {"xgboost": ["a", "c"], "lightgbm": ["a", "c"], "catboost": ["a"]}
"""CatBoost has no missing category: its `c` is not nullable, so a null `c` dead-letters."""


def _features(library: str) -> dict:
    return {"schema": FEATURES, "passthrough": {"id": "long"}, "nullable": NULLABLE[library]}


def _publish(tmp_path, library: str, model_path) -> str:
    store = ModelStore(tmp_path / "models")
    features = FeaturesConfig(**_features(library))
    return publish_trees(store, model_path, library, features, TreesModelConfig()).version


@pytest.fixture(scope="module")
def topic(bootstrap) -> str:
    """One topic of RECORDS records, shared by every library and task."""
    name = create_topic(bootstrap, 1)
    produce_exact(bootstrap, name, {0: [orjson.dumps(r) for r in records(RECORDS)]})
    return name


@pytest.mark.parametrize("task", TASKS)
@pytest.mark.parametrize("library", LIBRARIES)
def test_predictions_equal_the_library_own_on_every_row(
    library, task, topic, tmp_path, spark, bootstrap
):
    model, path = train(library, task, tmp_path)
    _publish(tmp_path, library, path)
    config = scorer_config(tmp_path, bootstrap, topic, features=_features(library))

    Scorer(config, spark=spark, once=True).run()

    scored = read_sink(spark, tmp_path / "predictions").sort_values("offset")
    dead = read_sink(spark, tmp_path / "dead-letter").sort_values("offset")
    recs = records(RECORDS)
    null_c = [i for i, r in enumerate(recs) if r["c"] is None]
    dead_offsets = null_c if library == "catboost" else []
    assert scored["offset"].tolist() == [i for i in range(RECORDS) if i not in dead_offsets]
    assert dead["offset"].tolist() == dead_offsets
    if dead_offsets:
        assert set(dead["error"]) == {"field 'c': expected string, got null"}
    kept = [recs[i] for i in scored["offset"]]
    prediction, proba = expected(library, model, kept)
    if task == "regression":
        np.testing.assert_allclose(scored["prediction"], prediction, rtol=1e-6, atol=1e-6)
        assert "probability" not in scored.columns
    else:
        assert scored["prediction"].tolist() == prediction.tolist()
        np.testing.assert_allclose(np.stack(scored["probabilities"]), proba, rtol=1e-6)
        column = proba[:, 1] if task == "binary" else proba.max(axis=1)
        np.testing.assert_allclose(scored["probability"], column, rtol=1e-6)


def test_reload_from_xgboost_to_lightgbm_switches_at_a_batch_boundary(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    first, second = records(40, seed=2), records(40, seed=3)
    for i, rec in enumerate(second):
        rec["id"] = 40 + i
    xgb_model, xgb_path = train("xgboost", "binary", tmp_path)
    lgb_model, lgb_path = train("lightgbm", "binary", tmp_path)
    _publish(tmp_path, "xgboost", xgb_path)
    config = scorer_config(tmp_path, bootstrap, topic, features=_features("lightgbm"))
    query = Scorer(config, spark=spark).start()
    try:
        produce_exact(bootstrap, topic, {0: [orjson.dumps(r) for r in first]})
        query.processAllAvailable()
        assert _publish(tmp_path, "lightgbm", lgb_path) == "v0002"
        produce_exact(bootstrap, topic, {0: [orjson.dumps(r) for r in second]})
        query.processAllAvailable()
    finally:
        query.stop()

    scored = reloaded_at(spark, tmp_path, switch=40, total=80).sort_values("offset")
    assert coordinates(scored) == [(topic, 0, offset) for offset in range(80)]
    for (library, model), recs, rows in (
        (("xgboost", xgb_model), first, scored.iloc[:40]),
        (("lightgbm", lgb_model), second, scored.iloc[40:]),
    ):
        prediction, proba = expected(library, model, recs)
        assert rows["prediction"].tolist() == prediction.tolist()
        np.testing.assert_allclose(np.stack(rows["probabilities"]), proba, rtol=1e-6)


def test_truncated_model_is_refused_at_publish_and_at_serve_the_old_version_serves(tmp_path, spark):
    store = ModelStore(tmp_path / "models")
    _, xgb_path = train("xgboost", "binary", tmp_path)
    _, lgb_path = train("lightgbm", "binary", tmp_path)
    _publish(tmp_path, "xgboost", xgb_path)
    cut = tmp_path / "cut.txt"
    cut.write_bytes(lgb_path.read_bytes()[:-2000])
    with pytest.raises(ModelRejectedError, match=r"cut\.txt refused: .*truncated or edited"):
        _publish(tmp_path, "lightgbm", cut)
    registry = ModelRegistry(ModelConfig(store=str(store.root)), FEATURES, spark)
    registry.refresh()
    _publish(tmp_path, "lightgbm", lgb_path)
    artefact = store.root / "v0002" / "model.txt"
    artefact.write_bytes(artefact.read_bytes()[:-2000])

    serving = registry.refresh()

    assert serving.version == "v0001"
    assert registry.refusals == 1
    assert registry.last_error.startswith("v0002 refused: sha256 mismatch")


def test_a_booster_past_mapped_above_mb_is_served_from_the_per_machine_cache(
    topic, tmp_path, spark, bootstrap
):
    model, path = train("lightgbm", "multiclass", tmp_path)
    sha256 = ModelStore(tmp_path / "models").manifest(_publish(tmp_path, "lightgbm", path)).sha256
    cache = tmp_path / "cache"
    settings = {"store": str(tmp_path / "models"), "mapped_above_mb": 0, "cache_dir": str(cache)}
    features = _features("lightgbm")
    config = scorer_config(tmp_path, bootstrap, topic, features=features, model=settings)

    Scorer(config, spark=spark, once=True).run()

    scored = read_sink(spark, tmp_path / "predictions").sort_values("offset")
    assert scored["offset"].tolist() == list(range(RECORDS))
    prediction, proba = expected("lightgbm", model, records(RECORDS))
    assert scored["prediction"].tolist() == prediction.tolist()
    np.testing.assert_allclose(np.stack(scored["probabilities"]), proba, rtol=1e-6)
    assert [p.name for p in cache.iterdir() if p.name.startswith(sha256)] != []
