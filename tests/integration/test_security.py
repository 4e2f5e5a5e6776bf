"""Nothing unsafe gets in: tampered or untrusted models never load, secrets never leak."""

import dataclasses
import hashlib
import io
import os
import pickle
import subprocess

import joblib
import numpy as np
import pytest
import skops.io as sio
import yaml

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.contract.manifest import MANIFEST_FILE, Manifest
from stream_scorer.errors import ModelStoreError
from stream_scorer.runtime.scorer import Scorer
from stream_scorer.serving.registry import ModelRegistry
from stream_scorer.testing.models import ThresholdRaisingClassifier
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.signing import SIGNING_KEY_ENV
from stream_scorer.versions.store import ModelStore
from tests.hostile_pickle import Calls
from tests.kafka_helpers import create_topic, produce_exact, spread
from tests.scorer_helpers import (
    NUMERIC,
    coordinates,
    encode,
    produce_records,
    publish,
    read_sink,
    records,
    scorer_config,
)
from tests.scorer_process import CLI, RUN_TIMEOUT_S, scorer_env, write_config

pytestmark = pytest.mark.integration

RAISING_TYPE = "stream_scorer.testing.models.ThresholdRaisingClassifier"


class _CreatesFile:
    """Unpickling this object opens (creates) `path`: a stand-in for arbitrary code."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return open, (self.path, "w")


def _scored_versions(spark, tmp_path) -> set[str]:
    return set(read_sink(spark, tmp_path / "predictions")["model_version"])


def test_tampered_artefact_is_refused_before_deserialising_and_v1_keeps_serving(
    tmp_path, spark, bootstrap
):
    topic = create_topic(bootstrap, 2)
    store = tmp_path / "models"
    marker = tmp_path / "pwned"
    publish(store, "binary", NUMERIC, seed=0)
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic), spark=spark)
    query = scorer.start()
    try:
        produce_records(bootstrap, topic, range(40), 2)
        query.processAllAvailable()
        version = publish(store, "binary", NUMERIC, seed=1)
        artefact = store / version / ModelStore(store).manifest(version).file
        artefact.write_bytes(pickle.dumps(_CreatesFile(str(marker))))
        produce_records(bootstrap, topic, range(40, 80), 2)
        query.processAllAvailable()
        assert query.isActive
    finally:
        scorer.close()

    assert not marker.exists()
    scored = read_sink(spark, tmp_path / "predictions")
    assert len(set(coordinates(scored))) == len(scored) == 80
    assert set(scored["model_version"]) == {"v0001"}
    assert scorer.registry.refusals == 1
    assert scorer.registry.last_error.startswith("v0002 refused: sha256 mismatch")


def _swap_in_hostile_artefact(store: ModelStore, version: str, marker) -> None:
    """Replace `version`'s artefact by a hostile one and fix its sha256, as a store writer could."""
    buffer = io.BytesIO()
    joblib.dump(Calls(os.system, f"touch {marker}"), buffer)
    manifest = store.manifest(version)
    (store.root / version / manifest.file).write_bytes(buffer.getvalue())
    fixed = dataclasses.replace(manifest, sha256=hashlib.sha256(buffer.getvalue()).hexdigest())
    (store.root / version / MANIFEST_FILE).write_text(fixed.to_json())


def test_hostile_artefact_with_a_matching_sha256_never_runs_and_v1_keeps_serving(tmp_path, spark):
    store, marker = ModelStore(tmp_path / "models"), tmp_path / "pwned"
    publish(store.root, "binary", NUMERIC, seed=0)
    registry = ModelRegistry(ModelConfig(store=str(store.root)), NUMERIC, spark)
    registry.refresh()
    _swap_in_hostile_artefact(store, publish(store.root, "binary", NUMERIC, seed=1), marker)

    assert registry.refresh().version == "v0001"

    assert not marker.exists()
    assert registry.last_error.startswith(
        "v0002 refused: cannot load the joblib artefact: the artefact refers to posix.system,"
    )


def test_with_a_signing_key_an_unsigned_version_is_refused_and_v1_keeps_serving(
    tmp_path, spark, monkeypatch
):
    monkeypatch.setenv(SIGNING_KEY_ENV, "k3y-for-tests-only")
    publish(tmp_path / "models", "binary", NUMERIC, seed=0)
    registry = ModelRegistry(ModelConfig(store=str(tmp_path / "models")), NUMERIC, spark)
    assert registry.refresh().version == "v0001"
    monkeypatch.delenv(SIGNING_KEY_ENV)
    publish(tmp_path / "models", "binary", NUMERIC, seed=1)
    monkeypatch.setenv(SIGNING_KEY_ENV, "k3y-for-tests-only")

    assert registry.refresh().version == "v0001"

    assert registry.refusals == 1
    assert registry.last_error.startswith(f"v0002 refused: unsigned, and {SIGNING_KEY_ENV} is set")


def _fake_sklearn_version(store_dir, version: str) -> None:
    path = store_dir / version / MANIFEST_FILE
    manifest = Manifest.from_json(path.read_text())
    manifest.library_versions["scikit-learn"] = "0.24.2"
    path.write_text(manifest.to_json())


def test_model_saved_with_another_sklearn_is_refused_by_default(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(10), NUMERIC))})
    _fake_sklearn_version(tmp_path / "models", publish(tmp_path / "models", "binary", NUMERIC))
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic), spark=spark, once=True)

    with pytest.raises(ModelStoreError, match="no model to serve"):
        scorer.run()

    assert "saved with scikit-learn 0.24.2" in scorer.registry.last_error
    assert not (tmp_path / "predictions").exists()


def test_model_saved_with_another_sklearn_serves_when_allowed(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(10), NUMERIC))})
    _fake_sklearn_version(tmp_path / "models", publish(tmp_path / "models", "binary", NUMERIC))
    model = {"store": str(tmp_path / "models"), "allow_library_mismatch": True}
    config = scorer_config(tmp_path, bootstrap, topic, model=model)

    assert Scorer(config, spark=spark, once=True).run() == 0

    assert len(read_sink(spark, tmp_path / "predictions")) == 10


def _publish_skops_custom_model(store_dir) -> None:
    x = np.random.default_rng(0).normal(size=(60, 4))
    path = store_dir.parent / "raising.skops"
    path.write_bytes(sio.dumps(ThresholdRaisingClassifier(5.0).fit(x, x[:, 0] > 0)))
    publish_sklearn(ModelStore(store_dir), path, NUMERIC, trusted_types=[RAISING_TYPE])


def test_skops_type_trusted_only_by_the_artefact_is_refused(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(10), NUMERIC))})
    _publish_skops_custom_model(tmp_path / "models")
    scorer = Scorer(scorer_config(tmp_path, bootstrap, topic), spark=spark, once=True)

    with pytest.raises(ModelStoreError, match="no model to serve"):
        scorer.run()

    assert f"types not trusted by config: ['{RAISING_TYPE}']" in scorer.registry.last_error


def test_skops_type_trusted_by_config_serves(tmp_path, spark, bootstrap):
    topic = create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, {0: encode(records(range(10), NUMERIC))})
    _publish_skops_custom_model(tmp_path / "models")
    model = {"store": str(tmp_path / "models"), "trusted_types": [RAISING_TYPE]}
    config = scorer_config(tmp_path, bootstrap, topic, model=model)

    assert Scorer(config, spark=spark, once=True).run() == 0

    assert len(read_sink(spark, tmp_path / "predictions")) == 10


SECRETS = {
    "SCORER_JAAS_PASSWORD": "s3cr3t-jaas-7f3a9c",
    "SCORER_KEY_PASSWORD": "s3cr3t-keypw-91c2d4",
}
SECRET_OPTIONS = {
    "kafka.security.protocol": "PLAINTEXT",  # the test broker has no auth; options still flow
    "kafka.sasl.mechanism": "PLAIN",
    "kafka.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
    'required username="alice" password="${SCORER_JAAS_PASSWORD}";',
    "kafka.ssl.key.password": "${SCORER_KEY_PASSWORD}",
}


def test_secrets_appear_in_no_log_and_no_file(tmp_path, spark, bootstrap):
    topic, out = create_topic(bootstrap, 2), create_topic(bootstrap, 1)
    produce_exact(bootstrap, topic, spread([*encode(records(range(30), NUMERIC)), b"bad"], 2))
    publish(tmp_path / "models", "binary", NUMERIC)
    path = write_config(tmp_path, bootstrap, topic, kafka_sink_topic=out)
    config = yaml.safe_load(path.read_text())
    config["source"]["options"].update(SECRET_OPTIONS)
    config["sinks"][1]["options"] = {"kafka.bootstrap.servers": bootstrap, **SECRET_OPTIONS}
    path.write_text(yaml.safe_dump(config))
    env = {**scorer_env(), **SECRETS}

    done = subprocess.run(
        [CLI, "--log-level", "DEBUG", "run", "--config", str(path), "--once"],
        env=env,
        capture_output=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )

    logs = done.stdout + done.stderr
    assert done.returncode == 0, logs.decode(errors="replace")[-3000:]
    assert (
        b"INFO stream_scorer.runtime.scorer: source python-kafka" in done.stderr
    )  # logs were captured
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.parts[-2] == "commits" for p in files)
    for secret in SECRETS.values():
        assert secret.encode() not in logs
        leaking = [str(p) for p in files if secret.encode() in p.read_bytes()]
        assert leaking == []
    assert len(read_sink(spark, tmp_path / "predictions")) == 30
