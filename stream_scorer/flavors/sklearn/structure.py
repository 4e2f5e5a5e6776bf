"""Structural invariants that a fitted model's own predict code trusts and never checks.

scikit-learn's tree code walks node arrays in C: a child index past the end, a feature index
past the row, or a cycle makes it read outside its arrays (a worker dies with SIGSEGV) or
loop forever. Every artefact is checked once, as it is deserialised (`formats`), before any
row reaches it: a model whose structure does not hold is refused with the reason.

Checked: decision trees (`tree_`, in forests, extra trees, gradient boosting, isolation
forests and bagging too), histogram gradient boosting's tree predictors, and the feature
subsets that bagging ensembles hand their members.
"""

from collections.abc import Iterator
from typing import Any, NoReturn

import numpy as np

from stream_scorer.errors import ModelRejectedError

LEAF = -1
"""A leaf's child index in scikit-learn's trees (`TREE_LEAF`)."""
SCALARS = (str, bytes, int, float, bool, type(None), np.generic)
"""Values that hold no object: not visited."""
MAX_OBJECTS = 1_000_000
"""Objects visited at most while looking for trees: a bound on a crafted object graph."""


def check_structure(model: object) -> None:
    """Refuse `model` if a tree in it could make predict read outside its arrays or loop.

    Raises
    ------
    ModelRejectedError
        Naming the estimator, the node and what is wrong.
    """
    for where, estimator in _estimators(model):
        tree = getattr(estimator, "tree_", None)
        if tree is not None and type(tree).__name__ == "Tree":
            _check_tree(where, tree, _features_in(estimator, tree.n_features))
        for i, stage in enumerate(getattr(estimator, "_predictors", None) or ()):
            for k, predictor in enumerate(stage):
                name = f"{where}._predictors[{i}][{k}]"
                _check_hist_predictor(name, predictor, _features_in(estimator, None))
        subsets = getattr(estimator, "estimators_features_", None)
        if subsets is not None:
            _check_subsets(where, subsets, _features_in(estimator, None))


def _estimators(model: object) -> Iterator[tuple[str, Any]]:
    """(path, object) of every object reachable from `model` through attributes and
    containers, each once; the path names where it was found, for messages."""
    seen: set[int] = set()
    stack: list[tuple[str, Any]] = [(type(model).__name__, model)]
    while stack:
        where, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if len(seen) > MAX_OBJECTS:
            msg = f"the model holds more than {MAX_OBJECTS} objects; not checked, not loaded"
            raise ModelRejectedError(msg)
        yield where, obj
        stack.extend(_children(where, obj))


def _children(where: str, obj: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, np.ndarray):
        items: Any = enumerate(obj.ravel().tolist()) if obj.dtype == object else ()
        named = ((f"{where}[{i}]", item) for i, item in items)
    elif isinstance(obj, (list, tuple)):
        named = ((f"{where}[{i}]", item) for i, item in enumerate(obj))
    elif isinstance(obj, dict):
        named = ((f"{where}[{key!r}]", item) for key, item in obj.items())
    else:
        attributes = getattr(obj, "__dict__", None)
        pairs = attributes.items() if isinstance(attributes, dict) else ()
        named = ((f"{where}.{name}", item) for name, item in pairs)
    yield from ((name, item) for name, item in named if not isinstance(item, SCALARS))


def _features_in(estimator: Any, fallback: int | None) -> int | None:
    count = getattr(estimator, "n_features_in_", fallback)
    return int(count) if isinstance(count, (int, np.integer)) else fallback


def _check_tree(where: str, tree: Any, n_features: int | None) -> None:
    """Nodes of a scikit-learn `Tree`: children after their parent and in range (so no
    cycle), both or neither a leaf, split features in range, values one row per node."""
    n = int(tree.node_count)
    left, right = np.asarray(tree.children_left), np.asarray(tree.children_right)
    feature = np.asarray(tree.feature)
    if not len(left) == len(right) == len(feature) == n or len(np.asarray(tree.value)) != n:
        _refuse(where, f"its node arrays do not all hold node_count = {n} nodes")
    if n_features is not None and int(tree.n_features) != n_features:
        _refuse(where, f"its tree takes {tree.n_features} features, the model {n_features}")
    leaf = left == LEAF
    index = np.arange(n)
    _first_bad(where, leaf != (right == LEAF), "has one child only")
    inner = ~leaf
    _first_bad(where, inner & ((left <= index) | (left >= n)), "has its left child out of order")
    _first_bad(where, inner & ((right <= index) | (right >= n)), "has its right child out of order")
    limit = int(tree.n_features) if n_features is None else n_features
    _first_bad(where, inner & ((feature < 0) | (feature >= limit)), "splits on no feature")


def _check_hist_predictor(where: str, predictor: Any, n_features: int | None) -> None:
    """Nodes of a histogram gradient boosting `TreePredictor`, as `_check_tree` checks a tree;
    a categorical split's bitset index in range too."""
    nodes = np.asarray(getattr(predictor, "nodes", ()))
    if not {"left", "right", "feature_idx", "is_leaf", "is_categorical", "bitset_idx"} <= set(
        nodes.dtype.names or ()
    ):
        _refuse(where, "its nodes are not a histogram tree's")
    n = len(nodes)
    index = np.arange(n)
    inner = nodes["is_leaf"] == 0
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    _first_bad(where, inner & ((left <= index) | (left >= n)), "has its left child out of order")
    _first_bad(where, inner & ((right <= index) | (right >= n)), "has its right child out of order")
    feature = nodes["feature_idx"].astype(np.int64)
    if n_features is not None:
        _first_bad(where, inner & ((feature < 0) | (feature >= n_features)), "splits on no feature")
    bitsets = len(np.asarray(getattr(predictor, "raw_left_cat_bitsets", ())))
    categorical = inner & (nodes["is_categorical"] != 0)
    bitset = nodes["bitset_idx"].astype(np.int64)
    _first_bad(where, categorical & ((bitset < 0) | (bitset >= bitsets)), "has no category set")


def _check_subsets(where: str, subsets: Any, n_features: int | None) -> None:
    """Each member's feature subset of a bagging ensemble indexes the model's features."""
    for i, subset in enumerate(subsets):
        columns = np.asarray(subset)
        if columns.dtype.kind not in "iu" or (
            n_features is not None
            and columns.size
            and (columns.min() < 0 or columns.max() >= n_features)
        ):
            _refuse(f"{where}.estimators_features_[{i}]", "indexes no feature of the model")


def _first_bad(where: str, bad: np.ndarray, what: str) -> None:
    if bad.any():
        _refuse(where, f"node {int(np.flatnonzero(bad)[0])} {what}")


def _refuse(where: str, why: str) -> NoReturn:
    msg = f"the model's structure does not hold at {where}: {why}"
    raise ModelRejectedError(msg)
