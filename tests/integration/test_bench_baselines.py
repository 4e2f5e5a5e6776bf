"""Every benchmarked approach scores like `model.predict` (correctness only, no timing)."""

import numpy as np
import pytest

from bench import baselines
from bench.data import Features, kafka_frame, make_rows, train_models, typed_frame
from bench.run import stage_scorer

pytestmark = [pytest.mark.integration, pytest.mark.bench]

ROWS = 200
BY_PREDICTION = {
    "per_call_unpickle": baselines.per_call_unpickle,
    "broadcast_row_udf": baselines.broadcast_row_udf,
    "pandas_udf_iterator": baselines.pandas_udf_iterator,
    "predict_batch": baselines.predict_batch,
}


@pytest.fixture(scope="module")
def models():
    return train_models()


@pytest.fixture(scope="module")
def rows():
    return make_rows(ROWS, seed=11)[0]


@pytest.fixture(scope="module")
def frames(spark, rows):
    built = {"columns": typed_frame(spark, rows), "json": kafka_frame(spark, rows)}
    yield built
    for frame in built.values():
        frame.unpersist()


@pytest.fixture(scope="module")
def stage_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-stage")


def _by_id(scored, id_column, value_column):
    return {r[id_column]: r[value_column] for r in scored.collect()}


@pytest.mark.parametrize("kind", ["columns", "json"])
@pytest.mark.parametrize("model_name", ["LR", "RF"])
@pytest.mark.parametrize("approach", sorted(BY_PREDICTION))
def test_row_keeping_approach_predicts_like_model(approach, model_name, kind, models, rows, frames):
    features = Features(kind)
    scored = BY_PREDICTION[approach](frames[kind], models[model_name], features)
    got = _by_id(scored, features.id_column, "prediction")
    assert sorted(got) == list(range(ROWS))
    assert [got[i] for i in range(ROWS)] == models[model_name].predict(rows).tolist()


@pytest.mark.parametrize("kind", ["columns", "json"])
@pytest.mark.parametrize("model_name", ["LR", "RF"])
def test_rdd_approach_predicts_like_model_in_input_order(model_name, kind, models, rows, frames):
    features = Features(kind)
    scored = baselines.rdd_map_partitions(frames[kind], models[model_name], features)
    got = _by_id(scored, "id", "prediction")
    input_ids = [r[features.id_column] for r in frames[kind].collect()]
    expected = models[model_name].predict(rows[input_ids]).tolist()
    assert [got[i] for i in range(ROWS)] == expected


@pytest.mark.parametrize("kind", ["columns", "json"])
@pytest.mark.parametrize("model_name", ["LR", "RF"])
def test_grouped_approach_gives_class_one_probability(model_name, kind, models, rows, frames):
    scored = baselines.grouped_map(frames[kind], models[model_name], Features(kind))
    got = _by_id(scored, "unique_id", "probability_estimate")
    expected = models[model_name].predict_proba(rows)[:, 1].astype(np.float32)
    assert [got[i] for i in range(ROWS)] == expected.tolist()
    predicted = (np.array([got[i] for i in range(ROWS)]) > 0.5).astype(float)
    assert predicted.tolist() == models[model_name].predict(rows).tolist()


@pytest.mark.parametrize("model_name", ["LR", "RF"])
def test_stage_predicts_like_model(model_name, models, rows, frames, spark, stage_dir):
    score = stage_scorer(spark, models[model_name], stage_dir)
    assert not isinstance(score, str), score  # a publish or serving error fails here
    scored = score(frames["json"], models[model_name], Features("json"))
    got = _by_id(scored, "offset", "prediction")
    assert [got[i] for i in range(ROWS)] == models[model_name].predict(rows).tolist()


def test_features_row_parses_json_value_in_feature_order():
    value = b'{"f7": 7.0, "f0": 0.5, "f1": 1, "f2": 2, "f3": 3, "f4": 4, "f5": 5, "f6": 6}'
    assert Features("json").row([value]) == [0.5, 1, 2, 3, 4, 5, 6, 7.0]
