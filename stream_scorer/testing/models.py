"""Test models the scorer loads like any other: published, broadcast, unpickled on workers.

They live in the package, not in `tests/`, so every Python worker can import them. Each
behaves like a plain classifier and adds one thing a test observes or provokes: a row it
refuses, a record of each deserialisation, a driver killed from inside a scoring task.
"""

import logging
import os
import signal
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

log = logging.getLogger(__name__)


class ThresholdRaisingClassifier(ClassifierMixin, BaseEstimator):
    """A logistic regression that raises ValueError on any input row whose f0 > `threshold`.

    Stands in for a model whose `predict` rejects some rows (a domain check, a lookup miss).
    """

    def __init__(self, threshold: float = 2.0) -> None:
        self.threshold = threshold

    def fit(self, X, y) -> "ThresholdRaisingClassifier":
        self.model_ = LogisticRegression().fit(np.asarray(X, dtype=np.float64), y)
        self.classes_ = self.model_.classes_
        self.n_features_in_ = self.model_.n_features_in_
        return self

    def predict(self, X) -> np.ndarray:
        return self.model_.predict(self._checked(X))

    def predict_proba(self, X) -> np.ndarray:
        return self.model_.predict_proba(self._checked(X))

    def _checked(self, X) -> np.ndarray:
        rows = np.asarray(X, dtype=np.float64)
        above = rows[:, 0] > self.threshold
        if above.any():
            msg = f"f0={rows[above, 0][0]} is above the threshold {self.threshold}"
            raise ValueError(msg)
        return rows


def expected_error(f0: float, threshold: float = 2.0) -> str:
    """The dead-letter reason of a row that `ThresholdRaisingClassifier` raises on."""
    return f"model raised ValueError: f0={f0} is above the threshold {threshold}"


class WrappedClassifier(ClassifierMixin, BaseEstimator):
    """A fitted classifier `estimator`, wrapped: same signature, same predictions."""

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    @property
    def classes_(self) -> np.ndarray:
        return self.estimator.classes_

    @property
    def n_features_in_(self) -> int:
        return self.estimator.n_features_in_

    @property
    def feature_names_in_(self) -> np.ndarray:
        return self.estimator.feature_names_in_  # AttributeError when fitted without names

    def predict(self, X) -> np.ndarray:
        return self.estimator.predict(X)

    def predict_proba(self, X) -> np.ndarray:
        return self.estimator.predict_proba(X)


class LoadRecordingClassifier(WrappedClassifier):
    """Appends this process's pid as a line to `record_file` each time it is deserialised.

    A worker that deserialises a model version once leaves one line; count lines per pid.
    """

    def __init__(self, estimator: Any, record_file: str) -> None:
        super().__init__(estimator)
        self.record_file = record_file

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        with open(self.record_file, "a") as record:
            record.write(f"{os.getpid()}\n")


class DriverKillingClassifier(WrappedClassifier):
    """SIGKILLs the process whose pid is in `pid_file` from a Spark task's first prediction.

    Fires once in all: only inside a Spark task (not at publish, not in the driver's canary
    check), only once `pid_file` exists, and only for the caller that creates `fired_file`
    (atomically), so a scorer restarted with the same model keeps running.
    """

    def __init__(self, estimator: Any, pid_file: str, fired_file: str) -> None:
        super().__init__(estimator)
        self.pid_file = pid_file
        self.fired_file = fired_file

    def predict(self, X) -> np.ndarray:
        self._strike()
        return super().predict(X)

    def predict_proba(self, X) -> np.ndarray:
        self._strike()
        return super().predict_proba(X)

    def _strike(self) -> None:
        from pyspark import TaskContext

        pid_file = Path(self.pid_file)
        if TaskContext.get() is None or not pid_file.exists():
            return
        try:
            os.close(os.open(self.fired_file, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        victim = int(pid_file.read_text())
        log.warning("test model kills the scorer's driver %d from a scoring task", victim)
        os.kill(victim, signal.SIGKILL)


class BatchPoisonClassifier(WrappedClassifier):
    """Scores up to `max_rows` rows at a time like `estimator`; on more, `predict_proba`
    returns labels ('low', 'high') instead of probabilities, which no scored row can hold.

    Stands in for a model that passes publish (its canary is small) and fails every real
    batch as a whole: the failure is in the output, not in a row, so no row can be set aside.
    """

    def __init__(self, estimator: Any, max_rows: int = 3) -> None:
        super().__init__(estimator)
        self.max_rows = max_rows

    def predict_proba(self, X) -> np.ndarray:
        proba = super().predict_proba(X)
        return proba if len(proba) <= self.max_rows else np.where(proba < 0.5, "low", "high")


class WorkerCrashingClassifier(WrappedClassifier):
    """Kills its own process with SIGSEGV when it predicts inside a Spark task, as a model
    whose native code reads outside its arrays would; anywhere else (publish, the driver's
    canary check) it predicts like `estimator`."""

    def predict(self, X) -> np.ndarray:
        self._crash()
        return super().predict(X)

    def predict_proba(self, X) -> np.ndarray:
        self._crash()
        return super().predict_proba(X)

    def _crash(self) -> None:
        from pyspark import TaskContext

        if TaskContext.get() is not None:
            os.kill(os.getpid(), signal.SIGSEGV)
