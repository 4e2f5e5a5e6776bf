"""Per-key model families: one model per key, each row scored by its key's model.

Rows of an Arrow batch are grouped by their routing key (`features.routing.ROUTE_KEY`) and
each group is predicted by its key's model in one vectorised call (`members.KeyModel`),
never row by row. A key without a model of its own goes to the family's fallback model, if
it has one, else its rows get "no model for key 'K'". A key's model is deserialised on its
first use, after its bytes are checked against their sha256, as the family's member format
says (`members`: a pickle through the restricted unpickler every pickle artefact goes
through, a booster by its library's loader), and kept for the life of the predictor, which
`distribution.worker_cache` keeps per worker and version.
"""

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.contract.model_input import ModelInput, model_input
from stream_scorer.errors import ModelRejectedError
from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.base import Features, Predictions, Predictor
from stream_scorer.flavors.family.artefact import FALLBACK_KEY, FamilyArtefact, Member
from stream_scorer.flavors.family.members import KeyModel, format_of
from stream_scorer.types import TYPES


@dataclasses.dataclass(frozen=True)
class _Model:
    """A deserialised model of the family, and how its outputs join the family's."""

    name: str
    """Its key, or FALLBACK_KEY."""
    model: KeyModel
    manifest: Manifest
    """The family's manifest, with this model's own classes."""
    columns: np.ndarray | None
    """Where its probability columns go among the family's classes; None: same order."""


class FamilyPredictor(Predictor):
    """A family of per-key models in one artefact; keys' models load on first use."""

    routed = True

    def __init__(
        self,
        artefact: FamilyArtefact,
        manifest: Manifest,
        trusted: Sequence[str] = (),
        unsafe_load: bool = False,
    ) -> None:
        super().__init__(manifest)
        self.artefact = artefact
        self.trusted_types = tuple(trusted)
        self.unsafe_load = unsafe_load
        self._models: dict[str, _Model | None] = {}
        self._lock = threading.Lock()

    @property
    def loaded_keys(self) -> list[str]:
        """Keys whose model this predictor has deserialised so far."""
        return [name for name, model in self._models.items() if model is not None]

    def predict(self, features: Features) -> Predictions:
        """Score each row with its key's model (column `ROUTE_KEY` of `features`)."""
        if not isinstance(features, pd.DataFrame) or ROUTE_KEY not in features:
            msg = f"a model family needs a features frame with the routing key {ROUTE_KEY!r}"
            raise ModelRejectedError(msg)
        return self._predict(features, features[ROUTE_KEY].to_numpy(dtype=object))

    def canary(self, rows: list[dict[str, Any]]) -> Canary:
        """Predict canary rows, each naming its key under `ROUTE_KEY` (FALLBACK_KEY: the
        fallback model)."""
        names = self.manifest.feature_names
        frame = pd.DataFrame([{n: row.get(n) for n in names} for row in rows], columns=names)
        keys = np.array([row.get(ROUTE_KEY) for row in rows], dtype=object)
        result = self._predict(frame, keys)
        failed = [(row.get(ROUTE_KEY), e) for row, e in zip(rows, result.errors, strict=True) if e]
        if failed:
            msg = f"the family failed to predict canary rows: {failed[:3]}"
            raise ModelRejectedError(msg)
        probabilities = None if result.probabilities is None else result.probabilities.tolist()
        return Canary(rows, result.prediction.tolist(), probabilities)

    def _predict(self, frame: pd.DataFrame, keys: np.ndarray) -> Predictions:
        m, n = self.manifest, len(keys)
        inputs = model_input(frame, m.feature_names, m.feature_types, m.input_layout)
        spec = TYPES[m.prediction_type]
        prediction = np.full(n, spec.placeholder, dtype=spec.dtype)
        proba = np.full((n, len(m.classes or ())), np.nan) if m.is_classifier else None
        given_proba = False
        model_keys = np.full(n, None, dtype=object)
        errors: list[str | None] = [None] * n
        for key, rows in _groups(keys):
            model = self._model(key)
            if model is None:
                reason = f"no model for key {key!r}"
                for i in rows:
                    errors[i] = reason
                continue
            part = model.model.predict(_take(inputs, rows), model.manifest)
            prediction[rows] = part.prediction
            model_keys[rows] = model.name
            if proba is not None and part.probabilities is not None:
                given_proba = True
                if model.columns is None:
                    proba[rows] = part.probabilities
                else:
                    proba[np.ix_(rows, model.columns)] = part.probabilities
            if any(part.errors):
                for i, error in zip(rows, part.errors, strict=True):
                    errors[i] = error
        if not given_proba:
            proba = None
        probability = None
        if proba is not None:
            probability = proba[:, 1] if m.task == "binary" else proba.max(axis=1)
        return Predictions(prediction, probability, proba, errors, model_keys)

    def _model(self, key: str | None) -> _Model | None:
        """The model serving `key` (its own, else the fallback), or None; loads on first use."""
        if key is None:
            return None
        if key in self._models:
            return self._models[key]
        with self._lock:
            if key not in self._models:
                member = self.artefact.members.get(key)
                name = key if member is not None else FALLBACK_KEY
                if member is None:
                    member = self.artefact.fallback
                self._models[key] = None if member is None else self._load(name, member)
            return self._models[key]

    def _load(self, name: str, member: Member) -> _Model:
        m = self.manifest
        payload = self.artefact.member_bytes(name, member)
        try:
            model = format_of(m).load(
                payload, member.classes, m, self.trusted_types, self.unsafe_load
            )
        except ModelRejectedError as exc:
            msg = f"the model of key {name!r}: {exc}"
            raise ModelRejectedError(msg) from exc
        own = model.classes
        if own is None or m.classes is None or own == m.classes:
            return _Model(name, model, m, None)
        unknown = [c for c in own if c not in m.classes]
        if unknown:
            msg = f"the model of key {name!r} predicts classes {unknown} the family lacks"
            raise ModelRejectedError(msg)
        columns = np.array([m.classes.index(c) for c in own])
        return _Model(name, model, dataclasses.replace(m, classes=own), columns)


def load(
    payload: bytes,
    manifest: Manifest,
    trusted_types: Sequence[str] = (),
    unsafe_load: bool = False,
) -> FamilyPredictor:
    """Parse the family artefact's index; keys' models are deserialised on first use, as
    the member format says (`members`): pickles through the same restricted unpickler as any
    pickle artefact (`trusted_types` and `unsafe_load` as for `load_model_bytes`).

    Raises
    ------
    ModelRejectedError
        If the artefact is not a family, or the manifest (when it lists the keys, as on the
        driver) names other keys or sha256s than the artefact holds.
    """
    artefact = FamilyArtefact(payload)
    info = FamilyInfo.of(manifest)
    if info is not None:
        listed = {key: stats.sha256 for key, stats in info.keys.items()}
        held = {key: member.sha256 for key, member in artefact.members.items()}
        fallback = info.fallback.sha256 if info.fallback else None
        if listed != held or fallback != (artefact.fallback and artefact.fallback.sha256):
            msg = "the manifest's keys or sha256s differ from the family artefact's index"
            raise ModelRejectedError(msg)
    return FamilyPredictor(artefact, manifest, trusted_types, unsafe_load)


def _groups(keys: np.ndarray) -> list[tuple[str | None, np.ndarray]]:
    """(key as text, row indices ascending) per distinct key; null keys are one group.

    Keys are compared as the exact strings they are: pandas' hash table reads a string only
    up to its first NUL ('plain\\x00' would join 'plain'), so any row whose key differs from
    its group's is grouped again by Python's own equality.
    """
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    known = codes >= 0
    if not np.array_equal(uniques[codes[known]], keys[known]):
        codes, uniques = _exact_codes(keys)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    bounds = np.cumsum(counts)
    groups: list[tuple[str | None, np.ndarray]] = []
    if counts[0]:
        groups.append((None, order[: bounds[0]]))
    for j, key in enumerate(uniques):
        groups.append((str(key), order[bounds[j] : bounds[j + 1]]))
    return groups


def _exact_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(keys)` by Python equality: codes (-1 for null) and the distinct keys."""
    index: dict[object, int] = {}
    codes = np.empty(len(keys), dtype=np.intp)
    for i, key in enumerate(keys.tolist()):
        codes[i] = -1 if pd.isna(key) else index.setdefault(key, len(index))
    return codes, np.array(list(index), dtype=object)


def _take(inputs: ModelInput, rows: np.ndarray) -> ModelInput:
    return inputs.iloc[rows] if isinstance(inputs, pd.DataFrame) else inputs[rows]
