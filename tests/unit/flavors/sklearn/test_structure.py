"""Trees whose node arrays would make predict read outside them are refused at load."""

import io

import joblib
import numpy as np
import pytest
from sklearn.ensemble import (
    BaggingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    IsolationForest,
    RandomForestClassifier,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.sklearn.formats import load_model_bytes, load_model_file

X = np.random.default_rng(0).normal(size=(200, 4))
Y = (X[:, 0] + X[:, 1] > 0).astype(int)


def dumped(model: object) -> bytes:
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return buffer.getvalue()


def edit_nodes(tree, **changes) -> None:
    """Set node fields of a fitted `Tree` (e.g. right_child={0: 10**8}) through its state."""
    state = tree.__getstate__()
    nodes = state["nodes"].copy()
    for field, values in changes.items():
        for node, value in values.items():
            nodes[field][node] = value
    tree.__setstate__({**state, "nodes": nodes})


def crafted_tree(**changes) -> DecisionTreeClassifier:
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, Y)
    edit_nodes(model.tree_, **changes)
    return model


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"right_child": {0: 10**8}}, "node 0 has its right child out of order"),
        ({"left_child": {1: 0}}, "node 1 has its left child out of order"),  # a cycle
        ({"right_child": {0: -1}}, "node 0 has one child only"),
        ({"feature": {0: 7}}, "node 0 splits on no feature"),
        ({"feature": {0: -5}}, "node 0 splits on no feature"),
    ],
)
def test_tree_that_breaks_an_invariant_is_refused_with_the_node(changes, reason):
    artefact = dumped(crafted_tree(**changes))

    with pytest.raises(ModelRejectedError, match=reason) as refused:
        load_model_bytes(artefact, "joblib")
    assert "structure does not hold at DecisionTreeClassifier" in str(refused.value)


def test_bad_tree_inside_a_forest_in_a_pipeline_is_refused_on_the_mapped_path_too(tmp_path):
    forest = RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(X, Y)
    edit_nodes(forest.estimators_[3].tree_, right_child={0: 10**8})
    path = tmp_path / "forest.joblib"
    joblib.dump(make_pipeline(StandardScaler(), forest), path)

    with pytest.raises(ModelRejectedError, match=r"estimators_\[3\].*right child"):
        load_model_file(path, "joblib")


def test_histogram_boosting_node_out_of_range_is_refused():
    model = HistGradientBoostingClassifier(max_iter=3, random_state=0).fit(X, Y)
    model._predictors[1][0].nodes["left"][0] = 10**6

    with pytest.raises(ModelRejectedError, match=r"_predictors\[1\]\[0\].*left child"):
        load_model_bytes(dumped(model), "joblib")


def test_bagging_feature_subset_outside_the_model_is_refused():
    model = BaggingClassifier(n_estimators=3, max_features=2, random_state=0).fit(X, Y)
    model.estimators_features_[1] = np.array([0, 40])

    with pytest.raises(ModelRejectedError, match=r"estimators_features_\[1\]: indexes no feature"):
        load_model_bytes(dumped(model), "joblib")


@pytest.mark.parametrize(
    "model",
    [
        DecisionTreeClassifier(random_state=0),
        RandomForestClassifier(n_estimators=5, random_state=0),
        GradientBoostingRegressor(n_estimators=5, random_state=0),
        HistGradientBoostingClassifier(max_iter=5, random_state=0),
        IsolationForest(n_estimators=5, max_features=2, random_state=0),
        BaggingClassifier(n_estimators=3, max_features=2, random_state=0),
    ],
    ids=lambda m: type(m).__name__,
)
def test_fitted_models_keep_their_invariants_and_load(model):
    model.fit(X, Y)

    loaded = load_model_bytes(dumped(model), "joblib")

    assert (loaded.predict(X) == model.predict(X)).all()
