"""model.shadow: a challenger scored beside the served model, on a real query and broker."""

import numpy as np
import pytest

from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.metrics.shadow import ShadowStats
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.testing.models import ThresholdRaisingClassifier, expected_error
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    encode,
    model_frame,
    produce_records,
    read_sink,
    records,
    scorer_config,
)

pytestmark = pytest.mark.integration


RAISING_TYPE = "stream_scorer.testing.models.ThresholdRaisingClassifier"  # trusted by name


def publish(store: ModelStore, model, path, advance: bool = True, trusted=()) -> str:
    return publish_sklearn(
        store, save_model(model, path), NUMERIC, None, trusted, advance=advance
    ).version


def shadow_config(tmp_path, bootstrap, topic, trusted=()):
    model = {"store": str(tmp_path / "models"), "shadow": "latest", "trusted_types": trusted}
    return scorer_config(tmp_path, bootstrap, topic, model=model)


def test_challenger_scores_the_same_rows_beside_the_served_model(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 2)
    store = ModelStore(tmp_path / "models")
    served, challenger = (train_demo_model("binary", 4, seed=seed) for seed in (0, 1))
    publish(store, served, tmp_path / "a.joblib")
    publish(store, challenger, tmp_path / "b.joblib", advance=False)
    recs = records(range(200), NUMERIC)
    produce_exact(bootstrap, topic, spread(encode(recs), 2))
    scorer = Scorer(shadow_config(tmp_path, bootstrap, topic), spark=spark, once=True)

    assert scorer.run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    inputs = model_frame(recs, NUMERIC)
    mine, theirs = served.predict(inputs), challenger.predict(inputs)
    assert scored["prediction"].tolist() == mine.tolist()
    assert set(scored["model_version"]) == {"v0001"}
    assert scored["shadow_prediction"].tolist() == theirs.tolist()
    np.testing.assert_allclose(scored["shadow_probability"], challenger.predict_proba(inputs)[:, 1])
    assert set(scored["shadow_model_version"]) == {"v0002"}
    assert scored["shadow_error"].isna().all()
    assert scorer.pipeline.stats.last.shadow == ShadowStats(
        model_version="v0002",
        compared=200,
        agreement_rate=float(np.mean(mine == theirs)),
        mean_absolute_difference=None,
        positive_rate_shift=(int(theirs.sum()) - int(mine.sum())) / 200,
        errors=0,
        example_error=None,
    )


def test_challenger_that_raises_on_rows_never_touches_the_served_columns(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 2)
    store = ModelStore(tmp_path / "models")
    served = train_demo_model("binary", 4, seed=0)
    recs = records(range(100), NUMERIC)
    raising = ThresholdRaisingClassifier().fit(
        model_frame(recs, NUMERIC), served.predict(model_frame(recs, NUMERIC))
    )
    publish(store, served, tmp_path / "a.joblib")
    publish(store, raising, tmp_path / "b.joblib", advance=False, trusted=[RAISING_TYPE])
    produce_exact(bootstrap, topic, spread(encode(recs), 2))
    config = shadow_config(tmp_path, bootstrap, topic, trusted=[RAISING_TYPE])
    scorer = Scorer(config, spark=spark, once=True)

    assert scorer.run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    above = [r["f0"] > 2.0 for r in recs]
    assert len(scored) == 100
    assert scored["prediction"].tolist() == served.predict(model_frame(recs, NUMERIC)).tolist()
    assert scored["shadow_prediction"].isna().tolist() == above
    assert scored["shadow_model_version"].isna().tolist() == above
    assert scored["shadow_error"].dropna().tolist() == [
        expected_error(r["f0"]) for r in recs if r["f0"] > 2.0
    ]
    assert any(above)
    assert scorer.pipeline.stats.last.shadow.errors == sum(above)


def test_promoting_the_challenger_serves_it_and_empties_the_shadow_columns(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 2)
    store = ModelStore(tmp_path / "models")
    publish(store, train_demo_model("binary", 4, seed=0), tmp_path / "a.joblib")
    publish(store, train_demo_model("binary", 4, seed=1), tmp_path / "b.joblib", advance=False)
    query = Scorer(shadow_config(tmp_path, bootstrap, topic), spark=spark).start()
    try:
        produce_records(bootstrap, topic, range(60), 2)
        query.processAllAvailable()
        store.set_current("v0002")  # `stream-scorer model promote v0002`
        produce_records(bootstrap, topic, range(60, 100), 2)
        query.processAllAvailable()
    finally:
        query.stop()

    scored = read_sink(spark, tmp_path / "predictions").set_index("id").sort_index()
    before, after = scored.loc[range(60)], scored.loc[range(60, 100)]
    assert set(before["model_version"]) == {"v0001"}
    assert set(before["shadow_model_version"]) == {"v0002"}
    assert set(after["model_version"]) == {"v0002"}
    assert after["shadow_model_version"].isna().all()
    assert after["shadow_prediction"].isna().all()
