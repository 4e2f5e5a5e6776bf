"""Predictors load from a verified local file: joblib arrays memory-mapped, others in memory."""

import dataclasses
import hashlib
import os

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import KNeighborsRegressor

from stream_scorer.distribution import worker_cache
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.cached_file import CachedFileArtefact
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.base import load_predictor
from stream_scorer.flavors.sklearn.describe import describe
from tests.hostile_pickle import Calls
from tests.scorer_helpers import NUMERIC


def _knn(tmp_path, compress: int = 0):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((500, 4)), columns=list(NUMERIC))
    model = KNeighborsRegressor(n_neighbors=3).fit(frame, rng.standard_normal(500))
    path = tmp_path / "knn.joblib"
    joblib.dump(model, path, compress=compress)
    return path, describe(model, path.read_bytes(), "joblib", NUMERIC), frame


def test_uncompressed_joblib_file_is_memory_mapped(tmp_path):
    path, manifest, _ = _knn(tmp_path)

    predictor = load_predictor(path, manifest)

    assert isinstance(predictor.model._fit_X, np.memmap)
    assert predictor.model._fit_X.filename == str(path)


def test_file_predictions_equal_bytes_predictions(tmp_path):
    path, manifest, frame = _knn(tmp_path)

    mapped = load_predictor(path, manifest).predict(frame.head(50))
    in_memory = load_predictor(path.read_bytes(), manifest).predict(frame.head(50))

    assert np.array_equal(mapped.prediction, in_memory.prediction)


def test_compressed_joblib_file_loads_into_memory(tmp_path):
    path, manifest, _ = _knn(tmp_path, compress=3)

    with pytest.warns(UserWarning, match="not compatible with compressed file"):
        predictor = load_predictor(path, manifest)

    assert not isinstance(predictor.model._fit_X, np.memmap)


def test_hostile_artefact_in_the_cache_never_runs_on_a_worker(tmp_path):
    _, manifest, _ = _knn(tmp_path)
    marker, source = tmp_path / "pwned", tmp_path / "hostile.joblib"
    joblib.dump(Calls(os.system, f"touch {marker}"), source)
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = ArtefactCache(str(tmp_path / "cache"))
    artefact = CachedFileArtefact(str(source), sha256, ".joblib", cache, "v-hostile")
    hostile = dataclasses.replace(manifest, sha256=sha256)

    with pytest.raises(ModelRejectedError, match=r"refers to posix\.system, which is not"):
        worker_cache.cached_predictor("v-hostile", artefact, hostile, (), 2)
    assert artefact.local_copy().exists()  # it was mapped from the cache, and refused there
    assert not marker.exists()


def test_worker_reloads_a_cached_copy_altered_after_it_was_loaded(tmp_path, caplog):
    source, manifest, frame = _knn(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))
    artefact = CachedFileArtefact(str(source), manifest.sha256, ".joblib", cache, "v-knn")
    first = worker_cache.cached_predictor("v-knn", artefact, manifest, (), 2)
    expected = first.predict(frame.head(20)).prediction
    copy = artefact.local_copy()
    size = copy.stat().st_size
    with open(copy, "r+b") as handle:  # overwrite the mapped training set in place
        handle.seek(size - 4096)
        handle.write(b"\x7f" * 4096)

    again = worker_cache.cached_predictor("v-knn", artefact, manifest, (), 2)

    assert again is not first
    assert np.array_equal(again.predict(frame.head(20)).prediction, expected)
    assert "changed on disk" in caplog.text
    worker_cache.discard("v-knn")
