"""Per-key model families: one model per key, each row scored by its key's model.

Rows of an Arrow batch are grouped by their routing key (`features.routing.ROUTE_KEY`) and
each group is predicted by its key's model in one vectorised call (`members.KeyModel`),
never row by row; the rows of linear members are scored together, in one vectorised pass
per batch (`linear`), instead of one scikit-learn call per key. A key without a model of its
own goes to the family's fallback model (loaded once), if it has one, else its rows get
"no model for key 'K'". A key's model is deserialised on its first use, after its bytes are
checked against their sha256, as the family's member format says (`members`: a pickle
through the restricted unpickler every pickle artefact goes through, a booster by its
library's loader), and kept for the life of the predictor, which `distribution.worker_cache`
keeps per worker and version.
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
from stream_scorer.flavors.family.linear import LinearStack, stackable
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
    slot: int | None = None
    """Its row in the family's `LinearStack`, when it is scored stacked (`linear`)."""


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
        self._stack = LinearStack()
        self._fallback: _Model | None = None
        self._fallback_loaded = False

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
        m = self.manifest
        inputs = model_input(frame, m.feature_names, m.feature_types, m.input_layout)
        scored = _Scored(m, len(keys))
        codes, uniques = _key_codes(keys)
        models = [self._model(key) for key in uniques]
        rest = np.arange(len(keys))
        slots = np.array([-1 if md is None or md.slot is None else md.slot for md in models] + [-1])
        x = stackable(inputs) if slots.max() >= 0 else None
        if x is not None:  # validated once per batch: finite float64 rows
            row_slots = slots[codes]  # a null key's code -1 takes the last slot, -1
            fast = (row_slots >= 0) & np.isfinite(x).all(axis=1)
            rows, rest = np.flatnonzero(fast), np.flatnonzero(~fast)
            names = np.array([md.name if md is not None else None for md in models], dtype=object)
            if len(rows):
                outputs = self._stack.predict(row_slots[rows], x[rows], m)
                scored.put_stacked(rows, *outputs, names[codes[rows]])
        for code, part in _groups(codes, rest):
            model = models[code] if code >= 0 else None
            if model is None:
                key = uniques[code] if code >= 0 else None
                scored.fail(part, f"no model for key {key!r}")
            else:
                scored.put(model, part, model.model.predict(_take(inputs, part), model.manifest))
        return scored.predictions()

    def _model(self, key: str | None) -> _Model | None:
        """The model serving `key` (its own, else the fallback), or None; loads on first use."""
        if key is None:
            return None
        if key in self._models:
            return self._models[key]
        with self._lock:
            if key not in self._models:
                member = self.artefact.members.get(key)
                if member is not None:
                    self._models[key] = self._load(key, member)
                else:  # every key without a model shares the one fallback model
                    if not self._fallback_loaded:
                        fallback = self.artefact.fallback
                        if fallback is not None:
                            self._fallback = self._load(FALLBACK_KEY, fallback)
                        self._fallback_loaded = True
                    self._models[key] = self._fallback
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
            linear = model.linear(m)
            return _Model(name, model, m, None, None if linear is None else self._stack.add(linear))
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


class _Scored:
    """The outputs of one batch, filled in by key (or by stacked rows), in row order."""

    def __init__(self, manifest: Manifest, n: int) -> None:
        spec = TYPES[manifest.prediction_type]
        self.manifest = manifest
        self.prediction = np.full(n, spec.placeholder, dtype=spec.dtype)
        width = len(manifest.classes or ())
        self.proba = np.full((n, width), np.nan) if manifest.is_classifier else None
        self.given_proba = False
        self.model_keys = np.full(n, None, dtype=object)
        self.errors: list[str | None] = [None] * n

    def fail(self, rows: np.ndarray, reason: str) -> None:
        for i in rows:
            self.errors[i] = reason

    def put(self, model: _Model, rows: np.ndarray, part: Predictions) -> None:
        """The outputs of `model`'s own predict on `rows`."""
        self.prediction[rows] = part.prediction
        self.model_keys[rows] = model.name
        if self.proba is not None and part.probabilities is not None:
            self.given_proba = True
            if model.columns is None:
                self.proba[rows] = part.probabilities
            else:
                self.proba[np.ix_(rows, model.columns)] = part.probabilities
        if any(part.errors):
            for i, error in zip(rows, part.errors, strict=True):
                self.errors[i] = error

    def put_stacked(
        self, rows: np.ndarray, prediction: np.ndarray, proba: np.ndarray | None, names: np.ndarray
    ) -> None:
        """Outputs of the stacked pass; a regressor's non-finite output is its row's error,
        as `predict_rows` says."""
        self.prediction[rows] = prediction
        self.model_keys[rows] = names
        if self.proba is not None and proba is not None:
            self.given_proba = True
            self.proba[rows] = proba
        if not self.manifest.is_classifier:
            for i in np.flatnonzero(~np.isfinite(prediction)):
                self.errors[rows[i]] = f"model returned a non-finite prediction ({prediction[i]})"

    def predictions(self) -> Predictions:
        proba = self.proba if self.given_proba else None
        probability = None
        if proba is not None:
            probability = proba[:, 1] if self.manifest.task == "binary" else proba.max(axis=1)
        return Predictions(self.prediction, probability, proba, self.errors, self.model_keys)


def _key_codes(keys: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(code per row, -1 for a null key; the distinct keys as text, by code).

    Keys are compared as the exact strings they are: pandas' hash table reads a string only
    up to its first NUL ('plain\\x00' would join 'plain'), so any row whose key differs from
    its code's is coded again by Python's own equality.
    """
    codes, uniques = pd.factorize(keys, use_na_sentinel=True)
    known = codes >= 0
    if not np.array_equal(uniques[codes[known]], keys[known]):
        codes, uniques = _exact_codes(keys)
    return codes, [str(key) for key in uniques]


def _groups(codes: np.ndarray, rows: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(code, its `rows` ascending) per distinct code among `rows` (ascending)."""
    if not len(rows):
        return []
    order = rows[np.argsort(codes[rows], kind="stable")]
    found, starts = np.unique(codes[order], return_index=True)
    bounds = [*starts[1:], len(order)]
    return [(int(c), order[lo:hi]) for c, lo, hi in zip(found, starts, bounds, strict=True)]


def _exact_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(keys)` by Python equality: codes (-1 for null) and the distinct keys."""
    index: dict[object, int] = {}
    codes = np.empty(len(keys), dtype=np.intp)
    for i, key in enumerate(keys.tolist()):
        codes[i] = -1 if pd.isna(key) else index.setdefault(key, len(index))
    return codes, np.array(list(index), dtype=object)


def _take(inputs: ModelInput, rows: np.ndarray) -> ModelInput:
    return inputs.iloc[rows] if isinstance(inputs, pd.DataFrame) else inputs[rows]
