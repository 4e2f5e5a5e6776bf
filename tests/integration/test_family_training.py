"""`model train` on real Spark: one model per key, fitted on the executors, published once."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest
from sklearn.linear_model import Ridge

from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import load_predictor
from stream_scorer.flavors.family.artefact import FALLBACK_KEY, FamilyArtefact
from stream_scorer.flavors.family.build import TrainSpec, build_family
from stream_scorer.flavors.family.train import read_table, train_family
from stream_scorer.monitoring.baseline import Baseline
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.versions.store import ModelStore
from tests.family_helpers import FEATURES, keyed_frame
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import NUMERIC, read_sink, records, scorer_config

pytestmark = pytest.mark.integration

CLI = [str(Path(sys.executable).with_name("stream-scorer"))]
SINGLE_CLASS_KEY, SHORT_KEY = "k0004", "k0003"


@pytest.fixture(scope="module")
def frame():
    """6 keys x 40 rows; k0003 keeps 3 rows, k0004's labels are all 1."""
    data = keyed_frame(6, 40)
    data.loc[data["store"] == SINGLE_CLASS_KEY, "label"] = 1
    return data[(data["store"] != SHORT_KEY) | (data.index % 40 < 3)].reset_index(drop=True)


@pytest.fixture(scope="module")
def parquet(frame, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("family") / "train.parquet"
    frame.to_parquet(path)
    return path


def _spec(estimator: str, target: str = "y", **options) -> TrainSpec:
    return TrainSpec(
        "store", target, dict(NUMERIC), f"sklearn.linear_model.{estimator}", {}, **options
    )


def _local_predictions(model_bytes: bytes, estimator, rows) -> tuple[np.ndarray, np.ndarray]:
    """(the trained model's predictions, a local fit's) on `rows`."""
    inputs = rows[FEATURES].to_numpy()
    local = estimator().fit(inputs, rows["y"].to_numpy())
    return pickle.loads(model_bytes).predict(inputs), local.predict(inputs)


def test_each_key_is_fitted_on_its_own_rows(spark, frame, parquet) -> None:
    trained = train_family(read_table(spark, str(parquet)), _spec("Ridge"))

    assert [f.key for f in trained.fitted] == [f"k{i:04d}" for i in range(6)]
    for fitted in trained.fitted:
        rows = frame[frame["store"] == fitted.key]
        assert fitted.rows == len(rows)
        got, local = _local_predictions(fitted.payload, Ridge, rows)
        np.testing.assert_allclose(got, local, rtol=1e-9)
        assert fitted.canary == rows[FEATURES].head(2).to_dict("records")
    assert trained.skipped == {}


def test_keys_below_min_rows_or_whose_fit_raises_are_skipped_with_the_reason(
    spark, parquet
) -> None:
    spec = _spec("LogisticRegression", target="label", min_rows=10)

    trained = train_family(read_table(spark, str(parquet)), spec)

    assert [f.key for f in trained.fitted] == ["k0000", "k0001", "k0002", "k0005"]
    assert trained.skipped[SHORT_KEY] == "3 training rows, fewer than --min-rows 10"
    assert trained.skipped[SINGLE_CLASS_KEY].startswith(
        "fit raised ValueError: This solver needs samples of at least 2 classes"
    )


def test_fallback_is_fitted_on_every_row(spark, frame, parquet) -> None:
    trained = train_family(read_table(spark, str(parquet)), _spec("Ridge", fallback=True))

    fallback = [f for f in trained.fitted if f.key == FALLBACK_KEY]
    assert [f.rows for f in fallback] == [len(frame)]
    got, local = _local_predictions(fallback[0].payload, Ridge, frame)
    np.testing.assert_allclose(got, local, rtol=1e-9)


def test_progress_counts_keys_done_out_of_all(spark, parquet) -> None:
    seen: list[tuple[int, int]] = []

    train_family(
        read_table(spark, str(parquet)), _spec("Ridge"), progress=lambda *p: seen.append(p)
    )

    assert seen[-1] == (6, 6)
    assert all(total == 6 for _, total in seen)


def test_csv_training_data_trains_the_same_keys(spark, frame, tmp_path) -> None:
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)

    trained = train_family(read_table(spark, str(path)), _spec("Ridge"))

    assert [(f.key, f.rows) for f in trained.fitted] == [
        (key, len(rows)) for key, rows in frame.groupby("store")
    ]


def test_cli_train_publishes_the_family_as_one_version(parquet, tmp_path) -> None:
    store = tmp_path / "models"

    done = subprocess.run(
        [*CLI, "model", "train", "--data", str(parquet), "--key", "store", "--target", "label",
         "--features", ",".join(FEATURES), "--estimator", "sklearn.linear_model.LogisticRegression",
         "--params", '{"C": 0.5}', "--fallback", "--min-rows", "10", "--store", str(store)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr[-3000:]
    assert "fitting: 7/7 keys\n" in done.stderr
    assert "Spark logs: " in done.stderr
    spark_lines = ("Setting default log level", " WARN ", "log4j")  # the banner, log4j's lines
    assert not [line for line in done.stderr.splitlines() if any(s in line for s in spark_lines)]
    assert "published v0001: family of 4 keys + fallback, 2 skipped, binary" in done.stdout
    manifest = ModelStore(store).manifest("v0001")
    assert manifest.extra["family"]["params"] == {"C": 0.5}
    assert ModelStore(store).current_version() == "v0001"
    baseline = Baseline.from_json(ModelStore(store).baseline("v0001") or b"")
    assert (baseline.source, list(baseline.features)) == ("train", FEATURES)
    assert baseline.prediction is not None and baseline.prediction.kind == "numeric"


NATIVE = {"n_estimators": 10, "max_depth": 3, "n_jobs": 1}


def _native_family(spark, frame, tmp_path, estimator: str, target: str, **params):
    """Train `estimator` per key on Spark (keys of 10 rows or more), build and publish the
    family; (store, manifest)."""
    path = tmp_path / "train.parquet"
    frame.to_parquet(path)
    spec = TrainSpec("store", target, dict(NUMERIC), estimator, {**NATIVE, **params}, 10)
    trained = train_family(read_table(spark, str(path)), spec)
    assert set(trained.skipped) <= {SHORT_KEY, SINGLE_CLASS_KEY}
    store = ModelStore(tmp_path / "models")
    payload, manifest = build_family(spec, trained.fitted, trained.skipped)
    return store, store.add(manifest, payload)


def _members(store: ModelStore, manifest) -> dict:
    artefact = FamilyArtefact(store.read_artifact(manifest.version))
    return {k: (artefact.member_bytes(k, m), m.classes) for k, m in artefact.members.items()}


def test_xgboost_family_stores_boosters_that_predict_as_xgboost(spark, frame, tmp_path) -> None:
    import xgboost

    store, manifest = _native_family(spark, frame, tmp_path, "xgboost.XGBRegressor", "y")
    family = load_predictor(store.read_artifact(manifest.version), manifest)
    scored = family.predict(frame.assign(**{ROUTE_KEY: frame["store"]}))

    assert manifest.format == "xgboost-ubj"
    assert sorted(_members(store, manifest)) == ["k0000", "k0001", "k0002", "k0004", "k0005"]
    for key, (member, _) in _members(store, manifest).items():
        own = xgboost.XGBRegressor()
        own.load_model(bytearray(member))
        rows = np.flatnonzero(frame["store"] == key)
        expected = own.predict(frame[FEATURES].to_numpy()[rows]).astype(np.float64)
        np.testing.assert_array_equal(scored.prediction[rows], expected)


def test_lightgbm_family_scores_a_stream_as_lightgbm_with_each_keys_labels(
    spark, frame, tmp_path, bootstrap
) -> None:
    import lightgbm

    labelled = frame.assign(grade=np.where(frame["label"] == 1, "up", "down"))
    estimator = "lightgbm.LGBMClassifier"
    params = {"min_child_samples": 2, "verbose": -1}
    store, manifest = _native_family(spark, labelled, tmp_path, estimator, "grade", **params)
    members = _members(store, manifest)
    sent = [{**r, "store": f"k{i % 6:04d}"} for i, r in enumerate(records(range(300), NUMERIC, 3))]
    topic = create_topic(bootstrap, 3)
    produce_exact(bootstrap, topic, spread([orjson.dumps(v) for v in sent], 3))
    features = {"schema": NUMERIC, "passthrough": {"id": "long", "store": "string"}}
    model = {"store": str(store.root), "route_by": "store"}
    config = scorer_config(tmp_path, bootstrap, topic, features=features, model=model)

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    assert (manifest.format, manifest.classes) == ("lightgbm-text", ["down", "up"])
    assert sorted(members) == ["k0000", "k0001", "k0002", "k0005"]  # k0004: one class
    assert sorted(scored["id"]) == [r["id"] for r in sent if r["store"] in members]
    for key, (member, classes) in members.items():
        rows = scored[scored["store"] == key]
        inputs = np.array([[sent[i][f] for f in FEATURES] for i in rows["id"]])
        proba = lightgbm.Booster(model_str=member.decode()).predict(inputs)
        assert classes == ["down", "up"]
        assert rows["prediction"].tolist() == [classes[int(p > 0.5)] for p in proba]
        np.testing.assert_allclose(rows["probability"], proba, rtol=1e-12)
