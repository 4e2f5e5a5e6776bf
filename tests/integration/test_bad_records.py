"""Bad records never stop the stream: each is scored or dead-lettered with its reason.

Counted by (topic, partition, offset): scored + dead-lettered = produced, exactly.
"""

import joblib
import numpy as np
import orjson
import pandas as pd
import pytest
from kafka import KafkaProducer
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from stream_scorer.runtime.scorer import Scorer
from stream_scorer.testing.models import ThresholdRaisingClassifier, expected_error
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    coordinates,
    encode,
    publish,
    read_sink,
    records,
    score_once,
    scorer_config,
)

pytestmark = pytest.mark.integration

COLORS = {"f0": "double", "color": "string"}
RAISING_TYPE = (
    "stream_scorer.testing.models.ThresholdRaisingClassifier"  # our own class: trusted by name
)
BIG = 1_100_000  # padding bytes: above kafka-python's default 1 MiB request and fetch sizes


def _publish_model(store_dir, model, schema, canary_rows=None) -> str:
    path = store_dir.parent / f"{type(model).__name__}.joblib"
    joblib.dump(model, path)
    return publish_sklearn(ModelStore(store_dir), path, schema, canary_rows, [RAISING_TYPE]).version


def _produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes | None]]):
    """Write (key, value) pairs to partition 0 in order; the last one is its own batch."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, max_request_size=2_000_000)
    try:
        *body, last = messages
        for key, value in body:
            producer.send(topic, key=key, value=value, partition=0)
        producer.flush()
        producer.send(topic, key=last[0], value=last[1], partition=0)
        producer.flush()
    finally:
        producer.close()


def _fates(spark, tmp_path) -> tuple[pd.DataFrame, pd.DataFrame]:
    scored = read_sink(spark, tmp_path / "predictions")
    dead = read_sink(spark, tmp_path / "dead-letter")
    assert not set(coordinates(scored)) & set(coordinates(dead))
    return scored, dead


def _errors_by_offset(dead: pd.DataFrame) -> dict[int, str]:
    return dict(zip(dead["offset"], dead["error"], strict=True))


def test_non_finite_features_are_dead_lettered_and_the_rest_scored(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    good = encode(records(range(20), NUMERIC))
    non_finite = [
        b'{"id": 100, "f0": 1e999, "f1": 1, "f2": 1, "f3": 1}',
        b'{"id": 101, "f0": 1, "f1": -1e999, "f2": 1, "f3": 1}',
        b'{"id": 102, "f0": 1, "f1": 1, "f2": NaN, "f3": 1}',
    ]
    produce_exact(bootstrap, topic, {0: [*good[:10], *non_finite, *good[10:]]})
    publish(tmp_path / "models", "binary", NUMERIC)

    assert score_once(spark, tmp_path, bootstrap, topic) == 0

    scored, dead = _fates(spark, tmp_path)
    assert sorted(scored["id"]) == list(range(20))
    assert _errors_by_offset(dead) == {
        10: "field 'f0': not a finite number",
        11: "field 'f1': not a finite number",
        12: "field 'f2': not a finite number",
    }


def test_rows_the_model_raises_on_are_dead_lettered_and_the_query_keeps_running(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4))
    _publish_model(
        tmp_path / "models", ThresholdRaisingClassifier(2.0).fit(x, x[:, 0] > 0), NUMERIC
    )
    first, second = records(range(100), NUMERIC), records(range(100, 160), NUMERIC, seed=1)
    model = {"store": str(tmp_path / "models"), "trusted_types": [RAISING_TYPE]}
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic, model=model), spark=spark)
    query = scorer.start()
    try:
        produce_exact(bootstrap, topic, spread(encode(first), 2))
        query.processAllAvailable()
        produce_exact(bootstrap, topic, spread(encode(second), 2))
        query.processAllAvailable()
        assert query.isActive
    finally:
        scorer.close()

    scored, dead = _fates(spark, tmp_path)
    recs = first + second
    raising = {r["id"]: r["f0"] for r in recs if r["f0"] > 2.0}
    assert 0 < len(raising) < len(recs)
    assert any(i >= 100 for i in raising)  # the second batch had such rows too
    assert sorted(scored["id"]) == sorted(r["id"] for r in recs if r["id"] not in raising)
    ids = dead["value"].map(lambda v: orjson.loads(bytes(v))["id"])
    assert dict(zip(ids, dead["error"], strict=True)) == {
        i: expected_error(f0) for i, f0 in raising.items()
    }
    assert len(scored) + len(dead) == len(recs)


def test_unseen_category_is_dead_lettered_by_the_pipeline(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    train = pd.DataFrame(
        {"f0": np.linspace(-2, 2, 60), "color": ["red", "green", "blue"] * 20}, columns=list(COLORS)
    )
    onehot = OneHotEncoder(handle_unknown="error")
    model = Pipeline(
        [
            ("encode", ColumnTransformer([("onehot", onehot, ["color"])], remainder="passthrough")),
            ("classify", LogisticRegression()),
        ]
    ).fit(train, train["f0"] > 0)
    canary = [{"f0": 0.5, "color": "red"}, {"f0": -1.0, "color": "blue"}]
    _publish_model(tmp_path / "models", model, COLORS, canary)
    colors = ["red", "green", "purple", "blue", "red", "mauve"]
    values = [orjson.dumps({"id": i, "f0": 0.1 * i, "color": c}) for i, c in enumerate(colors)]
    produce_exact(bootstrap, topic, {0: values})
    config = scorer_config(tmp_path, bootstrap, topic, COLORS)

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored, dead = _fates(spark, tmp_path)
    assert sorted(scored["id"]) == [0, 1, 3, 4]
    errors = _errors_by_offset(dead)
    assert sorted(errors) == [2, 5]
    assert errors[2].startswith("model raised ValueError: Found unknown categories ['purple']")
    assert errors[5].startswith("model raised ValueError: Found unknown categories ['mauve']")


def test_awkward_messages_are_scored_or_dead_lettered_by_offset(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    good = encode(records(range(6), NUMERIC))
    big = orjson.dumps({**records(range(6, 7), NUMERIC)[0], "padding": "x" * BIG})
    big_bad = b'{"id": 7, "padding": "' + b"y" * BIG + b'"}'
    messages = [
        (None, good[0]),  # 0: null key
        (b"k1", None),  # 1: tombstone
        (b"k2", b""),  # 2: empty
        (b"k3", big),  # 3: > 1 MiB, valid
        (b"k4", b"\xff\xfe\x00\x81 not utf-8"),  # 4
        (None, b"null"),  # 5: null key, JSON null (kafka-python sends no null key and value)
        (b"k6", big_bad),  # 6: > 1 MiB, missing features
        (b"\xff\xfe", good[1]),  # 7: non-UTF-8 key, good value
        *[(b"k", v) for v in good[2:]],  # 8-11
    ]
    _produce(bootstrap, topic, messages)
    publish(tmp_path / "models", "binary", NUMERIC)

    assert score_once(spark, tmp_path, bootstrap, topic) == 0

    scored, dead = _fates(spark, tmp_path)
    assert sorted(scored["offset"]) == [0, 3, 7, 8, 9, 10, 11]
    assert sorted(scored["id"]) == [0, 1, 2, 3, 4, 5, 6]
    missing = "; ".join(f"missing field '{name}'" for name in NUMERIC)
    assert _errors_by_offset(dead) == {
        1: "value is null (tombstone)",
        2: "value is empty",
        4: "not UTF-8",
        5: "JSON value is null, expected an object",
        6: missing,
    }
    keys = dict(zip(dead["offset"], dead["key"], strict=True))
    assert keys[5] is None and bytes(keys[1]) == b"k1"
    assert len(bytes(dead.set_index("offset").loc[6, "value"])) == len(big_bad)
    assert len(scored) + len(dead) == len(messages)
