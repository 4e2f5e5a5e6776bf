"""Kafka -> foreachBatch -> broadcast model -> pandas UDF -> Parquet, counted by offsets."""

import hashlib
import json
import re

import numpy as np
import pytest

from stream_scorer.errors import ScorerError
from stream_scorer.flavors.sklearn.formats import load_model_bytes
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.versions.store import ModelStore
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    TEXT,
    coordinates,
    encode,
    model_frame,
    produce_records,
    publish,
    read_sink,
    records,
    reloaded_at,
    score_once,
    scorer_config,
)

pytestmark = pytest.mark.integration

MALFORMED = [
    b"not json at all",
    b'{"id": 1, "f0": "abc", "f1": 1, "f2": 1, "f3": 1}',
    b'{"id": 2, "f1": 1, "f2": 1, "f3": 1}',
    b"[1, 2, 3]",
    b"",
]


def load_serving_model(store_dir, version):
    store = ModelStore(store_dir)
    return load_model_bytes(store.read_artifact(version), store.manifest(version).format)


def expected_coordinates(topic, by_partition, wanted):
    return sorted(
        (topic, p, o) for p, vals in by_partition.items() for o, v in enumerate(vals) if wanted(v)
    )


@pytest.mark.smoke
def test_run_once_scores_every_good_offset_exactly_once(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 3)
    recs = records(range(300), NUMERIC)
    values = encode(recs)
    for i, bad in enumerate(MALFORMED):  # malformed records spread among the good ones
        values.insert(37 * i + 5, bad)
    by_partition = spread(values, 3)
    produce_exact(bootstrap, topic, by_partition)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = scorer_config(tmp_path, bootstrap, topic)

    assert Scorer(config, spark=spark, once=True).run() == 0

    scored = read_sink(spark, tmp_path / "predictions")
    dead = read_sink(spark, tmp_path / "dead-letter")
    bad = set(MALFORMED)
    assert coordinates(scored) == expected_coordinates(topic, by_partition, lambda v: v not in bad)
    assert coordinates(dead) == expected_coordinates(topic, by_partition, lambda v: v in bad)
    assert len(scored) + len(dead) == len(values)
    assert dead["error"].str.len().min() > 0
    assert set(dead["value"].map(bytes)) == bad

    model = load_serving_model(tmp_path / "models", "v0001")
    scored = scored.sort_values("id")
    inputs = model_frame(recs, NUMERIC)
    assert scored["id"].tolist() == [r["id"] for r in recs]
    assert scored["prediction"].tolist() == model.predict(inputs).tolist()
    np.testing.assert_allclose(scored["probability"], model.predict_proba(inputs)[:, 1])
    assert set(scored["model_version"]) == {"v0001"}


def test_restart_scores_only_new_records(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 3)
    publish(tmp_path / "models", "binary", NUMERIC)
    config = scorer_config(tmp_path, bootstrap, topic)
    first, second = records(range(90), NUMERIC), records(range(90, 150), NUMERIC, seed=1)

    produce_exact(bootstrap, topic, spread(encode(first), 3))
    Scorer(config, spark=spark, once=True).run()
    after_first = read_sink(spark, tmp_path / "predictions")
    produce_exact(bootstrap, topic, spread(encode(second), 3))
    Scorer(config, spark=spark, once=True).run()
    after_second = read_sink(spark, tmp_path / "predictions")

    assert sorted(after_first["id"]) == list(range(90))
    assert sorted(after_second["id"]) == list(range(150))
    assert len(set(coordinates(after_second))) == 150


@pytest.mark.smoke
def test_hot_reload_switches_model_version_at_a_batch_boundary(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 3)
    store = tmp_path / "models"
    publish(store, "binary", NUMERIC, seed=0)
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic), spark=spark)
    query = scorer.start()
    try:
        produce_records(bootstrap, topic, range(120), 3)
        query.processAllAvailable()
        assert publish(store, "binary", NUMERIC, seed=1) == "v0002"
        produce_records(bootstrap, topic, range(120, 200), 3)
        query.processAllAvailable()
    finally:
        query.stop()

    reloaded_at(spark, tmp_path, switch=120, total=200)


def _wrong_feature_count(store_dir, tmp_path):
    publish(store_dir, "binary", {"f0": "double", "f1": "double", "f2": "double"}, seed=3)


def _flipped_byte(store_dir, tmp_path):
    version = publish(store_dir, "binary", NUMERIC, seed=3)
    artefact = next((store_dir / version).glob("model.*"))
    data = bytearray(artefact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artefact.write_bytes(bytes(data))


def _corrupt_file(store_dir, tmp_path):
    """Garbage under a manifest that names its sha256: the bytes pass the check, the load fails."""
    version = publish(store_dir, "binary", NUMERIC, seed=3)
    artefact = next((store_dir / version).glob("model.*"))
    garbage = (tmp_path / "garbage.bin").read_bytes()
    artefact.write_bytes(garbage)
    manifest = json.loads((store_dir / version / "manifest.json").read_text())
    manifest["sha256"] = hashlib.sha256(garbage).hexdigest()
    (store_dir / version / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("breakage", "reason"),
    [
        (_wrong_feature_count, r"feature"),
        (_flipped_byte, r"sha256 mismatch \(manifest "),
        (_corrupt_file, r"cannot load|not a model|unpickl"),
    ],
    ids=["wrong-feature-count", "sha256-mismatch", "corrupt-file"],
)
def test_broken_model_is_refused_and_old_version_keeps_serving(
    tmp_path, spark, bootstrap, breakage, reason
):
    topic = create_topic(bootstrap, 2)
    store = tmp_path / "models"
    publish(store, "binary", NUMERIC)
    (tmp_path / "garbage.bin").write_bytes(b"\x80\x04 this is not a model" * 10)
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic), spark=spark)
    query = scorer.start()
    try:
        produce_records(bootstrap, topic, range(40), 2)
        query.processAllAvailable()
        breakage(store, tmp_path)
        produce_records(bootstrap, topic, range(40, 80), 2)
        query.processAllAvailable()
    finally:
        query.stop()

    scored = read_sink(spark, tmp_path / "predictions")
    assert sorted(scored["id"]) == list(range(80))
    assert set(scored["model_version"]) == {"v0001"}
    assert scorer.registry.refusals == 1  # refused once, not once per batch
    assert scorer.registry.last_error.startswith("v0002")
    assert re.search(reason, scorer.registry.last_error), scorer.registry.last_error


@pytest.mark.parametrize(
    ("kind", "schema"),
    [("binary", NUMERIC), ("multiclass", NUMERIC), ("regression", NUMERIC), ("text", TEXT)],
)
def test_each_model_kind_scores_like_its_own_predict(tmp_path, spark, bootstrap, kind, schema):
    topic = create_topic(bootstrap, 2)
    recs = records(range(60), schema, seed=7)
    produce_exact(bootstrap, topic, spread(encode(recs), 2))
    version = publish(tmp_path / "models", kind, schema)
    Scorer(scorer_config(tmp_path, bootstrap, topic, schema), spark=spark, once=True).run()

    scored = read_sink(spark, tmp_path / "predictions").sort_values("id")
    model = load_serving_model(tmp_path / "models", version)
    expected = model.predict(model_frame(recs, schema))
    if kind == "regression":
        np.testing.assert_allclose(scored["prediction"], expected)
    else:
        assert scored["prediction"].tolist() == expected.tolist()
    assert len(scored) == 60


def test_replayed_batch_writes_nothing_twice(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 3)
    publish(tmp_path / "models", "binary", NUMERIC)
    values = [*encode(records(range(60), NUMERIC)), b"broken"]
    produce_exact(bootstrap, topic, spread(values, 3))
    config = scorer_config(tmp_path, bootstrap, topic)
    Scorer(config, spark=spark, once=True).run()
    commit_dir = tmp_path / "checkpoint" / "commits"
    commits = sorted(commit_dir.glob("[0-9]*"), key=lambda p: int(p.name))
    commits[-1].unlink()  # Spark now replays the last batch on restart
    (commit_dir / f".{commits[-1].name}.crc").unlink(missing_ok=True)  # Hadoop's checksum

    Scorer(config, spark=spark, once=True).run()

    scored = read_sink(spark, tmp_path / "predictions")
    dead = read_sink(spark, tmp_path / "dead-letter")
    assert len(scored) == len(set(coordinates(scored))) == 60
    assert len(dead) == 1


def test_new_checkpoint_on_used_sink_path_is_refused_not_skipped(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    publish(tmp_path / "models", "binary", NUMERIC)
    produce_exact(bootstrap, topic, {0: encode(records(range(10), NUMERIC))})
    score_once(spark, tmp_path, bootstrap, topic)
    fresh = scorer_config(tmp_path, bootstrap, topic, checkpoint=str(tmp_path / "new-checkpoint"))

    with pytest.raises(ScorerError, match=r"already holds committed batches 0\.\.0"):
        Scorer(fresh, spark=spark, once=True).run()
    assert len(read_sink(spark, tmp_path / "predictions")) == 10
