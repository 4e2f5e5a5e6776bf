"""model.source: mlflow on a real local MLflow registry: alias moves during a running query."""

import numpy as np
import pandas as pd
import pytest

from stream_scorer.devtools.onnx_models import dense
from stream_scorer.runtime.scorer import Scorer
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.mlflow_helpers import ConstantPyfunc, LocalMlflow, MlflowServer
from tests.onnx_helpers import direct_run, softmax
from tests.scorer_helpers import NUMERIC, encode, model_frame, read_sink, records, scorer_config

pytestmark = pytest.mark.integration


@pytest.fixture
def backend(tmp_path, demo_models) -> LocalMlflow:
    """A registry holding `fraud` versions 1 and 2 (demo models of seeds 0 and 1),
    `fraud@champion` -> 1."""
    mlflow = LocalMlflow(tmp_path / "mlflow")
    example = pd.DataFrame(records(range(5), NUMERIC, seed=9))[list(NUMERIC)]
    for seed in (0, 1):
        mlflow.register("fraud", demo_models[seed], example)
    mlflow.set_alias("fraud", "champion", "1")
    return mlflow


@pytest.fixture(scope="module")
def demo_models():
    from stream_scorer.devtools.demo_models import train_demo_model

    return [train_demo_model("binary", n_features=4, seed=seed) for seed in (0, 1)]


def mlflow_config(tmp_path, bootstrap, topic, backend):
    model = {"source": "mlflow", "uri": "models:/fraud@champion"}
    return scorer_config(
        tmp_path, bootstrap, topic, model=model | {"tracking_uri": backend.tracking_uri}
    )


def run_in_phases(scorer, bootstrap, topic, phases):
    """Produce each phase's ids, then let the query drain them; `between` runs after each."""
    query = scorer.start()
    try:
        for ids, between in phases:
            produce_exact(bootstrap, topic, spread(encode(records(ids, NUMERIC)), 2))
            query.processAllAvailable()
            if between is not None:
                between()
    finally:
        query.stop()


def test_alias_move_switches_the_registry_version_at_a_batch_boundary(
    tmp_path, spark, bootstrap, backend, demo_models
):
    topic = create_topic(bootstrap, 2)
    scorer = Scorer(mlflow_config(tmp_path, bootstrap, topic, backend), spark=spark)

    promote = lambda: backend.set_alias("fraud", "champion", "2")  # noqa: E731
    run_in_phases(
        scorer, bootstrap, topic, [(range(100), promote), (range(100, 160), lambda: None)]
    )

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    assert scored["id"].tolist() == list(range(160))
    first, second = scored[scored["id"] < 100], scored[scored["id"] >= 100]
    assert set(first["model_version"]) == {"fraud/1"}
    assert set(second["model_version"]) == {"fraud/2"}
    for part, model, ids in (
        (first, demo_models[0], range(100)),
        (second, demo_models[1], range(100, 160)),
    ):
        expected = model.predict(model_frame(records(ids, NUMERIC), NUMERIC))
        assert part["prediction"].tolist() == expected.tolist()


def test_alias_on_an_unsupported_flavour_keeps_the_old_version_and_moving_back_rolls_back(
    tmp_path, spark, bootstrap, backend
):
    topic = create_topic(bootstrap, 2)
    backend.register("fraud", ConstantPyfunc())
    backend.set_alias("fraud", "champion", "2")
    scorer = Scorer(mlflow_config(tmp_path, bootstrap, topic, backend), spark=spark)

    run_in_phases(
        scorer,
        bootstrap,
        topic,
        [
            (range(50), lambda: backend.set_alias("fraud", "champion", "3")),
            (range(50, 100), lambda: backend.set_alias("fraud", "champion", "1")),
            (range(100, 150), lambda: None),
        ],
    )

    versions = read_sink(spark, tmp_path / "predictions").set_index("id")["model_version"]
    assert set(versions.loc[range(100)]) == {"fraud/2"}
    assert set(versions.loc[range(100, 150)]) == {"fraud/1"}
    assert scorer.registry.refusals == 1
    assert scorer.registry.last_error == (
        "fraud/3 refused: MLflow flavours ['python_function'] are not supported; "
        "supported: ['sklearn', 'xgboost', 'lightgbm', 'catboost', 'onnx']"
    )


def test_challenger_alias_is_scored_beside_the_champion(
    tmp_path, spark, bootstrap, backend, demo_models
):
    topic = create_topic(bootstrap, 2)
    backend.set_alias("fraud", "challenger", "2")
    recs = records(range(80), NUMERIC)
    produce_exact(bootstrap, topic, spread(encode(recs), 2))
    config = mlflow_config(tmp_path, bootstrap, topic, backend)
    model = config.model.model_copy(update={"shadow": "@challenger"})
    scorer = Scorer(config.model_copy(update={"model": model}), spark=spark, once=True)

    assert scorer.run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    inputs = model_frame(recs, NUMERIC)
    assert scored["prediction"].tolist() == demo_models[0].predict(inputs).tolist()
    assert scored["shadow_prediction"].tolist() == demo_models[1].predict(inputs).tolist()
    assert set(zip(scored["model_version"], scored["shadow_model_version"], strict=True)) == {
        ("fraud/1", "fraud/2")
    }
    assert scorer.shadow.source.location == "models:/fraud@challenger"


def test_a_hung_tracking_server_holds_the_batch_then_the_old_version_keeps_serving(
    tmp_path, spark, bootstrap, backend, monkeypatch
):
    """MLflow's own server over the registry; frozen (requests accepted, never answered)
    while the alias moves: the batch waits out MLflow's HTTP timeout and is scored by the
    version serving; answering again, the server's new alias is taken."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    topic = create_topic(bootstrap, 2)
    with MlflowServer(backend, tmp_path / "mlflow") as server:
        config = mlflow_config(tmp_path, bootstrap, topic, backend)
        model = config.model.model_copy(update={"tracking_uri": server.uri})
        scorer = Scorer(config.model_copy(update={"model": model}), spark=spark)

        def hang_and_promote():
            server.freeze()
            backend.set_alias("fraud", "champion", "2")

        run_in_phases(
            scorer,
            bootstrap,
            topic,
            [(range(40), hang_and_promote), (range(40, 80), server.thaw), (range(80, 120), None)],
        )

    versions = read_sink(spark, tmp_path / "predictions").set_index("id")["model_version"]
    assert sorted(versions.index) == list(range(120))
    assert set(versions.loc[range(80)]) == {"fraud/1"}
    assert set(versions.loc[range(80, 120)]) == {"fraud/2"}
    assert "cannot read the registry at http://127.0.0.1:" in scorer.registry.last_error


def test_alias_moved_from_an_xgboost_to_a_lightgbm_version_serves_each_natively(
    tmp_path, spark, bootstrap
):
    import lightgbm
    import xgboost

    train = model_frame(records(range(300), NUMERIC, seed=4), NUMERIC)
    labels = (train["f0"] + train["f1"] > 0).astype(int)
    xgb = xgboost.XGBClassifier(n_estimators=5, max_depth=3, n_jobs=1).fit(train, labels)
    lgb = lightgbm.LGBMClassifier(n_estimators=5, verbose=-1).fit(train, labels)
    backend = LocalMlflow(tmp_path / "mlflow")
    example = train.head(5)
    backend.register_native("fraud", "xgboost", xgb, example)
    backend.register_native("fraud", "lightgbm", lgb.booster_, example)
    backend.set_alias("fraud", "champion", "1")
    topic = create_topic(bootstrap, 2)
    scorer = Scorer(mlflow_config(tmp_path, bootstrap, topic, backend), spark=spark)

    promote = lambda: backend.set_alias("fraud", "champion", "2")  # noqa: E731
    run_in_phases(scorer, bootstrap, topic, [(range(60), promote), (range(60, 100), lambda: 0)])

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    assert scored["id"].tolist() == list(range(100))
    first, second = scored[scored["id"] < 60], scored[scored["id"] >= 60]
    assert set(first["model_version"]) == {"fraud/1"}
    assert set(second["model_version"]) == {"fraud/2"}
    for part, model, ids in ((first, xgb, range(60)), (second, lgb, range(60, 100))):
        frame = model_frame(records(ids, NUMERIC), NUMERIC)
        assert part["prediction"].tolist() == model.predict(frame).tolist()
        np.testing.assert_allclose(part["probability"], model.predict_proba(frame)[:, 1])


def test_alias_moved_from_an_sklearn_to_an_onnx_version_serves_the_graph(
    tmp_path, spark, bootstrap, backend
):
    graph = dense((len(NUMERIC),), outputs=2, seed=3)
    assert backend.register_onnx("fraud", graph) == "3"
    topic = create_topic(bootstrap, 2)
    model = {"source": "mlflow", "uri": "models:/fraud@champion"}
    model |= {"tracking_uri": backend.tracking_uri, "onnx": {"classes": [0, 1], "scores": "logits"}}
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic, model=model), spark=spark)

    promote = lambda: backend.set_alias("fraud", "champion", "3")  # noqa: E731
    run_in_phases(scorer, bootstrap, topic, [(range(40), promote), (range(40, 80), lambda: 0)])

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    assert scored["id"].tolist() == list(range(80))
    assert set(scored[scored["id"] < 40]["model_version"]) == {"fraud/1"}
    onnx_rows = scored[scored["id"] >= 40]
    assert set(onnx_rows["model_version"]) == {"fraud/3"}
    inputs = model_frame(records(range(40, 80), NUMERIC), NUMERIC).to_numpy(np.float32)
    proba = softmax(direct_run(graph, [inputs], "x"))
    np.testing.assert_allclose(onnx_rows["probability"], proba[:, 1], rtol=1e-5)
    assert onnx_rows["prediction"].tolist() == proba.argmax(axis=1).tolist()
