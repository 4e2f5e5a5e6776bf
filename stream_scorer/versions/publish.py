"""Publish a model file to a store: its flavour describes it, then the store adds it.

`publish_sklearn` takes joblib, pickle and skops files, `publish_onnx` ONNX graphs,
`publish_trees` XGBoost, LightGBM and CatBoost models in their own formats; a per-key
family is built and added by `flavors.family.build`. Each refuses a model that does not load,
does not fit the features or fails its canary, before anything is stored.
"""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from stream_scorer.config.model_settings import (
    DEFAULT_MAPPED_ABOVE_MB,
    OnnxModelConfig,
    TreesModelConfig,
)
from stream_scorer.config.settings import FeaturesConfig
from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.catboost.describe import describe_catboost
from stream_scorer.flavors.lightgbm.describe import describe_lightgbm
from stream_scorer.flavors.onnx.describe import describe_onnx
from stream_scorer.flavors.sklearn.describe import describe
from stream_scorer.flavors.sklearn.formats import format_of, load_model_bytes
from stream_scorer.flavors.sklearn.mappable import mappable_artefact
from stream_scorer.flavors.trees.describe import Describe
from stream_scorer.flavors.xgboost.describe import describe_xgboost
from stream_scorer.types import Scalar
from stream_scorer.versions.baseline import reference_baseline
from stream_scorer.versions.store import ModelStore, read_model_file


def publish_sklearn(
    store: ModelStore,
    model_path: str | Path,
    feature_types: Mapping[str, str],
    canary_rows: list[dict[str, Any]] | None = None,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
    advance: bool = True,
    mapped_above_bytes: int = DEFAULT_MAPPED_ABOVE_MB * 2**20,
    force: bool = False,
    baseline: pd.DataFrame | None = None,
) -> Manifest:
    """Store the scikit-learn model file at `model_path` (joblib, pickle or skops) as a new
    version of `store` and `advance_current` to it.

    The file loads as `load_model_bytes` admits for `trusted_types` and `unsafe_load`;
    both are recorded in the manifest, which is signed when a signing key is set. CURRENT
    stays on a newer version that a concurrent publish made CURRENT first (logged as a
    WARNING); with `advance=False` it is not touched, for callers that advance it
    themselves to learn the outcome. An artefact the store already holds is refused
    unless `force` (see `ModelStore.add`).

    A compressed joblib model at or above `mapped_above_bytes` uncompressed is stored
    uncompressed, so that workers can memory-map it (`flavors.sklearn.mappable`).

    With `baseline` rows, the version is stored with their baseline (`versions.baseline`).

    Raises
    ------
    ModelStoreError
        If the file or the store cannot be read or written.
    DuplicateModelError
        If a version with the same sha256 exists and `force` is False.
    ModelRejectedError
        If the model cannot be loaded or does not match `feature_types` (see `describe`).
    """
    fmt = format_of(model_path)
    payload = read_model_file(model_path)
    if not force:
        store.refuse_duplicate(payload)
    try:
        model = load_model_bytes(payload, fmt, trusted_types, unsafe_load)
    except ModelRejectedError as exc:
        msg = f"{model_path} refused: {exc}"
        raise ModelRejectedError(msg) from exc
    except Exception as exc:
        msg = f"{model_path}: cannot load as {fmt}: {exc!r}"
        raise ModelRejectedError(msg) from exc
    payload, extra = mappable_artefact(model, payload, fmt, mapped_above_bytes)
    try:
        described = describe(model, payload, fmt, feature_types, canary_rows)
    except ModelRejectedError as exc:
        msg = f"{model_path} refused: {exc}"
        raise ModelRejectedError(msg) from exc
    trusted = dataclasses.replace(
        described,
        extra={**described.extra, **extra},
        trusted_types=sorted(set(trusted_types)),
        unsafe_load=unsafe_load,
    )
    reference = _baseline(baseline, trusted, payload)
    return store.add(trusted, payload, advance, force=True, baseline=reference)  # checked


def publish_onnx(
    store: ModelStore,
    model_path: str | Path,
    features: FeaturesConfig,
    options: OnnxModelConfig,
    canary_rows: list[dict[str, Scalar]] | None = None,
    advance: bool = True,
    force: bool = False,
    baseline: pd.DataFrame | None = None,
) -> Manifest:
    """Store the graph at `model_path` as a new version of `store` and advance CURRENT to it
    (see `ModelStore.add`; `advance=False` leaves CURRENT to the caller, `force` stores an
    artefact the store already holds).

    Raises
    ------
    ModelStoreError
        If the file or the store cannot be read or written, or (DuplicateModelError) the
        store already holds the graph and `force` is False.
    ModelRejectedError
        If the graph does not load, does not fit `features`, or fails its canary
        (`describe_onnx`); the message reads "<file> refused: <reason>".
    """
    return _publish_described(
        store, model_path, describe_onnx, features, options, canary_rows, advance, force, baseline
    )


TREE_KINDS: dict[str, Describe] = {
    "xgboost": describe_xgboost,
    "lightgbm": describe_lightgbm,
    "catboost": describe_catboost,
}
"""Kind -> describe of the tree libraries whose models publish from their own formats."""


def publish_trees(
    store: ModelStore,
    model_path: str | Path,
    kind: str,
    features: FeaturesConfig,
    options: TreesModelConfig,
    canary_rows: list[dict[str, Scalar]] | None = None,
    advance: bool = True,
    force: bool = False,
    baseline: pd.DataFrame | None = None,
) -> Manifest:
    """Store the `kind` model at `model_path` (XGBoost JSON or UBJSON, LightGBM text,
    CatBoost .cbm) as a new version of `store` and advance CURRENT to it (see
    `ModelStore.add`; `advance=False` leaves CURRENT to the caller, `force` stores an
    artefact the store already holds).

    Raises
    ------
    ModelStoreError
        If the file or the store cannot be read or written, or (DuplicateModelError) the
        store already holds the model and `force` is False.
    ModelRejectedError
        If `kind` is not a tree kind, or the model does not load, does not fit `features`,
        or fails its canary; the message reads "<file> refused: <reason>".
    """
    describe = TREE_KINDS.get(kind)
    if describe is None:
        msg = f"{model_path}: kind {kind!r} is not one of {sorted(TREE_KINDS)}"
        raise ModelRejectedError(msg)
    return _publish_described(
        store, model_path, describe, features, options, canary_rows, advance, force, baseline
    )


_Options = TypeVar("_Options", OnnxModelConfig, TreesModelConfig)


def _publish_described(
    store: ModelStore,
    model_path: str | Path,
    describe: Callable[[bytes, FeaturesConfig, _Options, list[dict[str, Scalar]] | None], Manifest],
    features: FeaturesConfig,
    options: _Options,
    canary_rows: list[dict[str, Scalar]] | None,
    advance: bool,
    force: bool,
    baseline: pd.DataFrame | None = None,
) -> Manifest:
    """Read the file, refuse a duplicate (unless `force`), `describe` it, then store it
    (with the baseline of `baseline` rows); a refusal reads "<file> refused: <reason>"."""
    payload = read_model_file(model_path)
    if not force:
        store.refuse_duplicate(payload)
    try:
        described = describe(payload, features, options, canary_rows)
    except ModelRejectedError as exc:
        msg = f"{model_path} refused: {exc}"
        raise ModelRejectedError(msg) from exc
    reference = _baseline(baseline, described, payload)
    return store.add(described, payload, advance, force=True, baseline=reference)  # checked


def _baseline(rows: pd.DataFrame | None, described: Manifest, payload: bytes) -> bytes | None:
    """The `baseline.json` bytes of reference `rows` for the described version, if any.

    Raises
    ------
    ModelRejectedError
        If the model takes no named features (an image or tensor input).
    """
    if rows is None:
        return None
    if described.input_signature != "json":
        msg = (
            f"--baseline needs a model over named features (json or avro), not "
            f"{described.input_signature} input"
        )
        raise ModelRejectedError(msg)
    baseline = reference_baseline(
        rows, described, payload, "publish", described.trusted_types, described.unsafe_load
    )
    return baseline.to_json().encode()
