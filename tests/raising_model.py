"""Test estimators that fail on purpose; importable (not defined in a test) so they pickle."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


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
