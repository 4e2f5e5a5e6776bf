"""Load one stored model version only if it is the artefact published and still behaves so.

Checks, in order: manifest readable; sha256 of the bytes (before anything is deserialised);
the manifest's HMAC when a signing key is set (see `signing`; our store's versions only);
scikit-learn version; manifest signature against the configured feature schema;
deserialisation through the allowlist; the model's own signature; canary rows re-predicted.
"""

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.errors import ModelRejectedError, ModelStoreError
from stream_scorer.flavors.base import Predictor, load_predictor
from stream_scorer.types import TYPES
from stream_scorer.versions.signing import check_signed
from stream_scorer.versions.sources.base import VersionReader

Fetch = Callable[[Manifest], bytes | Path]
"""Gets a version's artefact, checked against its manifest's sha256: the bytes, or a verified
local file; raises ModelRejectedError on a mismatch, ModelStoreError if it cannot read."""

SKLEARN_KINDS = ("sklearn", "family")
"""Kinds whose models are scikit-learn's, so saved with (and checked against) its version."""


@dataclass(frozen=True)
class VerifiedModel:
    """A model version that passed every check, with its artefact and its loaded predictor."""

    version: str
    manifest: Manifest
    payload: bytes | Path
    """The artefact bytes, or the verified local file it was loaded from."""
    predictor: Predictor


def load_verified(
    store: VersionReader,
    version: str,
    feature_types: Mapping[str, str],
    allow_library_mismatch: bool = False,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
    input_signature: str = "json",
    route_by: str | None = None,
    check_signature: bool = True,
    fetch: Fetch | None = None,
) -> VerifiedModel:
    """Read, verify and load `version` of `store` for the configured `feature_types` and
    `input_signature` (`FeaturesConfig.input_signature`).

    `trusted_types` and `unsafe_load` widen what deserialising admits (see `load_model_bytes`).
    `check_signature` False skips the manifest signature check, for sources whose manifests
    we do not write (MLflow: `ModelSource.signed`).

    A per-key family serves only with `route_by` (`model.route_by`), a single model only
    without.

    `fetch` gets the artefact (default: its bytes, read from `store` and hashed).

    Raises
    ------
    ModelRejectedError
        On the first failed check; the message reads "<version> refused: <reason>".
    """
    try:
        manifest = store.manifest(version)
    except (ModelStoreError, ModelRejectedError) as exc:
        raise _refused(version, str(exc)) from exc
    if manifest.version != version:
        raise _refused(version, f"its manifest names version {manifest.version!r}")
    try:
        payload = (fetch or _reader(store, version))(manifest)
    except (ModelStoreError, ModelRejectedError) as exc:
        raise _refused(version, str(exc)) from exc
    try:
        if check_signature:
            check_signed(manifest, manifest.sha256)  # the artefact's, as `fetch` checked it
    except ModelRejectedError as exc:
        raise _refused(version, str(exc)) from exc
    if not allow_library_mismatch and manifest.kind in SKLEARN_KINDS:
        _check_sklearn(version, manifest)
    if manifest.input_signature != input_signature:
        reason = f"the model takes {manifest.input_signature} input, the config declares "
        raise _refused(version, reason + input_signature)
    _check_schema(version, manifest, feature_types)
    try:
        predictor = load_predictor(payload, manifest, trusted_types, unsafe_load)
    except ModelRejectedError as exc:
        raise _refused(version, str(exc)) from exc
    _check_routing(version, predictor, route_by)
    _check_canary(version, manifest, predictor)
    return VerifiedModel(version=version, manifest=manifest, payload=payload, predictor=predictor)


def sha256_mismatch(expected: str, actual: str) -> str:
    """Why an artefact whose bytes hash to `actual` is refused, its manifest saying `expected`."""
    return (
        f"sha256 mismatch (manifest {expected[:12]}…, file {actual[:12]}…); "
        "the artefact changed after publish"
    )


def _reader(store: VersionReader, version: str) -> Fetch:
    """Fetch the artefact bytes of `version` from `store`, checked against the manifest."""

    def read(manifest: Manifest) -> bytes:
        payload = store.read_artifact(version)
        actual = hashlib.sha256(payload).hexdigest()
        if actual != manifest.sha256:
            raise ModelRejectedError(sha256_mismatch(manifest.sha256, actual))
        return payload

    return read


def _refused(version: str, reason: str) -> ModelRejectedError:
    return ModelRejectedError(f"{version} refused: {reason}")


def _check_sklearn(version: str, manifest: Manifest) -> None:
    import sklearn

    saved = manifest.library_versions.get("scikit-learn", "unknown")
    if saved != sklearn.__version__:
        reason = (
            f"saved with scikit-learn {saved}, running {sklearn.__version__}; re-publish it "
            "with this version, or set model.allow_library_mismatch: true to accept the risk"
        )
        raise _refused(version, reason)


def _check_schema(version: str, manifest: Manifest, feature_types: Mapping[str, str]) -> None:
    model_names, config_names = manifest.feature_names, list(feature_types)
    problems = []
    missing = [n for n in model_names if n not in feature_types]
    extra = [n for n in config_names if n not in model_names]
    if missing:
        problems.append(f"model features not in the config schema: {missing}")
    if extra:
        problems.append(f"config features the model does not take: {extra}")
    if not missing and not extra and model_names != config_names:
        problems.append(f"order differs: model {model_names}, config {config_names}")
    retyped = [
        f"{n} (model {manifest.feature_types.get(n)}, config {feature_types[n]})"
        for n in model_names
        if n in feature_types and manifest.feature_types.get(n) != feature_types[n]
    ]
    if retyped:
        problems.append(f"types differ: {', '.join(retyped)}")
    if problems:
        raise _refused(version, "feature schema mismatch: " + "; ".join(problems))


def _check_routing(version: str, predictor: Predictor, route_by: str | None) -> None:
    if predictor.routed and route_by is None:
        reason = (
            "it is a family of per-key models: it serves only with model.route_by set to the "
            "key's field, and never as model.shadow"
        )
        raise _refused(version, reason)
    if not predictor.routed and route_by is not None:
        kind = predictor.manifest.kind
        reason = f"model.route_by is {route_by!r}, but this is a single {kind} model"
        raise _refused(version, reason)


def _check_canary(version: str, manifest: Manifest, predictor: Predictor) -> None:
    expected = manifest.canary
    try:
        got = predictor.canary(expected.rows)
    except ModelRejectedError as exc:
        raise _refused(version, str(exc)) from exc
    exact = TYPES[manifest.prediction_type].python is not float
    difference = _canary_difference(expected, got, exact=exact)
    if difference:
        raise _refused(version, f"canary mismatch: {difference}; the model behaves differently")


def _canary_difference(expected: Canary, got: Canary, exact: bool) -> str | None:
    if exact and got.predictions != expected.predictions:
        return f"predictions {got.predictions}, manifest says {expected.predictions}"
    if not exact and not _close(got.predictions, expected.predictions):
        return f"predictions {got.predictions}, manifest says {expected.predictions}"
    if (got.probabilities is None) != (expected.probabilities is None):
        return "probabilities present in only one of model and manifest"
    if got.probabilities is not None and not _close(got.probabilities, expected.probabilities):
        return f"probabilities {got.probabilities}, manifest says {expected.probabilities}"
    return None


def _close(a: list, b: list | None) -> bool:
    left, right = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return left.shape == right.shape and bool(np.allclose(left, right))
