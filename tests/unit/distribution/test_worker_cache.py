"""The per-worker predictor cache: one load per process and version, least recently used out."""

import gc
import io
import os
import uuid
import weakref

import joblib
import pytest

from stream_scorer.contract.manifest import Manifest
from stream_scorer.devtools.demo_models import train_demo_model
from stream_scorer.distribution import worker_cache
from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.describe import describe
from tests.hostile_pickle import Calls
from tests.scorer_helpers import NUMERIC


class _Bytes:
    """Stands in for a pyspark Broadcast: `.value` is the artefact bytes."""

    def __init__(self, model: object) -> None:
        buffer = io.BytesIO()
        joblib.dump(model, buffer)
        self.value = buffer.getvalue()


def _artefact(model: object) -> BroadcastArtefact:
    return BroadcastArtefact(_Bytes(model))


MODEL = train_demo_model("regression", 4)


def _manifest() -> Manifest:
    return describe(MODEL, _Bytes(MODEL).value, "joblib", NUMERIC)


def _version() -> str:
    return f"v-{uuid.uuid4().hex}"


def test_cache_deserialises_a_version_once() -> None:
    version, payload = _version(), _artefact(MODEL)
    before = worker_cache.load_count()
    first = worker_cache.cached_predictor(version, payload, _manifest(), (), 2)
    again = worker_cache.cached_predictor(version, payload, _manifest(), (), 2)
    assert again is first
    assert worker_cache.load_count() == before + 1


def test_cache_evicts_least_recently_used_version() -> None:
    a, b, c = _version(), _version(), _version()
    payload = _artefact(MODEL)
    for version in (a, b, a, c):
        worker_cache.cached_predictor(version, payload, _manifest(), (), 2)
    assert worker_cache.cached_versions()[-2:] == [a, c]
    assert b not in worker_cache.cached_versions()


def test_evicted_model_is_freed() -> None:
    payload = _artefact(MODEL)
    evicted = weakref.ref(worker_cache.cached_predictor(_version(), payload, _manifest(), (), 1))
    worker_cache.cached_predictor(_version(), payload, _manifest(), (), 1)
    gc.collect()
    assert evicted() is None


def test_discarded_version_is_loaded_again() -> None:
    version, payload = _version(), _artefact(MODEL)
    first = worker_cache.cached_predictor(version, payload, _manifest(), (), 2)

    worker_cache.discard(version)

    assert version not in worker_cache.cached_versions()
    assert worker_cache.cached_predictor(version, payload, _manifest(), (), 2) is not first


def test_cache_refuses_a_hostile_artefact_before_it_runs(tmp_path) -> None:
    marker = tmp_path / "pwned"
    version, payload = _version(), _artefact(Calls(os.system, f"touch {marker}"))

    with pytest.raises(ModelRejectedError, match=r"refers to posix\.system, which is not"):
        worker_cache.cached_predictor(version, payload, _manifest(), (), 2)
    assert not marker.exists()
    assert version not in worker_cache.cached_versions()
