"""Test models: wrapped predictions unchanged, loads recorded, the driver killed only in a task."""

import io
import os
import signal

import joblib
import numpy as np
import pytest

from stream_scorer.devtools.demo_models import demo_features, train_demo_model
from stream_scorer.testing import models
from stream_scorer.testing.models import (
    DriverKillingClassifier,
    LoadRecordingClassifier,
    WrappedClassifier,
)


@pytest.fixture(scope="module")
def estimator():
    return train_demo_model("binary", 4)


@pytest.fixture(scope="module")
def rows():
    return demo_features(4, 20, np.random.default_rng(1))


def _roundtrip(model):
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return joblib.load(io.BytesIO(buffer.getvalue()))


def test_wrapped_model_predicts_as_its_estimator(estimator, rows):
    wrapped = WrappedClassifier(estimator)
    assert wrapped.predict(rows).tolist() == estimator.predict(rows).tolist()
    np.testing.assert_array_equal(wrapped.predict_proba(rows), estimator.predict_proba(rows))
    assert list(wrapped.feature_names_in_) == ["f0", "f1", "f2", "f3"]


def test_each_deserialisation_records_the_pid_once(estimator, tmp_path):
    record = tmp_path / "loads"
    model = LoadRecordingClassifier(estimator, str(record))
    _roundtrip(model)
    _roundtrip(model)
    assert record.read_text() == f"{os.getpid()}\n" * 2


@pytest.fixture
def kills(monkeypatch):
    killed: list[tuple[int, int]] = []
    monkeypatch.setattr(models.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    return killed


def test_driver_killer_does_nothing_outside_a_spark_task(estimator, rows, tmp_path, kills):
    (tmp_path / "pid").write_text("4242")
    killer = DriverKillingClassifier(estimator, str(tmp_path / "pid"), str(tmp_path / "fired"))
    assert killer.predict(rows).tolist() == estimator.predict(rows).tolist()
    assert kills == []
    assert not (tmp_path / "fired").exists()


def test_driver_killer_fires_once_from_a_spark_task(estimator, rows, tmp_path, kills, monkeypatch):
    from pyspark import TaskContext

    monkeypatch.setattr(TaskContext, "get", classmethod(lambda cls: object()))
    (tmp_path / "pid").write_text("4242")
    killer = DriverKillingClassifier(estimator, str(tmp_path / "pid"), str(tmp_path / "fired"))
    killer.predict_proba(rows)
    killer.predict(rows)
    assert kills == [(4242, signal.SIGKILL)]
    assert (tmp_path / "fired").exists()
