"""import_estimator: `model train --estimator` takes sklearn.* classes and allowed extras."""

import re

import pytest
from sklearn.linear_model import Ridge

from stream_scorer.errors import ConfigError
from stream_scorer.flavors.sklearn.estimator import import_estimator


def test_sklearn_estimators_import_by_path() -> None:
    assert import_estimator("sklearn.linear_model.Ridge") is Ridge


def test_estimators_outside_sklearn_are_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("'collections.Counter' is not allowed")):
        import_estimator("collections.Counter")


def test_an_allowed_path_must_still_name_an_estimator_class() -> None:
    with pytest.raises(ConfigError, match="is not an estimator class"):
        import_estimator("collections.Counter", allowed=["collections.Counter"])


def test_a_missing_estimator_is_refused_naming_it() -> None:
    with pytest.raises(
        ConfigError, match=re.escape("'sklearn.linear_model.Ridgy' does not import")
    ):
        import_estimator("sklearn.linear_model.Ridgy")
