"""A booster in its library's own format as a `Predictor`: one call of the library's predict
per Arrow batch, outputs with the meaning scikit-learn gives them (`flavors.onnx.scores`)."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from stream_scorer.contract.manifest import Canary, Manifest
from stream_scorer.contract.onnx_spec import ScoreKind
from stream_scorer.contract.trees_spec import TreesSpec
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.base import Features, Predictions, Predictor
from stream_scorer.flavors.onnx.scores import failed, to_predictions
from stream_scorer.flavors.trees.booster import Booster
from stream_scorer.types import TYPES


class TreesPredictor(Predictor):
    """An XGBoost, LightGBM or CatBoost booster fed the manifest's features as a frame."""

    def __init__(self, booster: Booster, manifest: Manifest) -> None:
        super().__init__(manifest)
        self.booster = booster
        self.spec: TreesSpec = spec_of(manifest)

    def predict(self, features: Features) -> Predictions:
        """Score every row in one call; if the library raises, every row gets the reason."""
        m = self.manifest
        frame = features if isinstance(features, pd.DataFrame) else pd.DataFrame(features)
        if list(frame.columns) != m.feature_names:  # else no column-selection copy
            frame = frame[m.feature_names]
        n = len(frame)
        kind: ScoreKind = "logits" if self.spec.margin else "probabilities"
        if n == 0:
            return to_predictions(np.zeros((0, 1)), m, kind)
        try:
            scores = np.asarray(self.booster.scores(frame), dtype=np.float64)
            if len(scores) != n:
                msg = f"the booster returned {len(scores)} scores for {n} rows"
                raise ValueError(msg)
        except Exception as exc:  # each library raises its own types; rows get the reason
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            return failed(n, f"model raised {type(exc).__name__}: {reason}", m)
        return to_predictions(scores, m, kind)

    def canary(self, rows: list[dict[str, Any]]) -> Canary:
        """Predict canary rows (feature name -> value; None for a missing one)."""
        names = self.manifest.feature_names
        missing = sorted({n for row in rows for n in names if n not in row})
        if not rows or missing:
            msg = f"canary rows must be non-empty and hold every feature; missing {missing}"
            raise ModelRejectedError(msg)
        kept = [{name: row[name] for name in names} for row in rows]
        predicted = self.predict(typed_frame(kept, self.manifest))
        problems = [f"row {i}: {e}" for i, e in enumerate(predicted.errors) if e]
        if problems:
            raise ModelRejectedError(f"the canary rows failed: {'; '.join(problems)}")
        proba = predicted.probabilities
        return Canary(
            kept, predicted.prediction.tolist(), None if proba is None else proba.tolist()
        )


def typed_frame(rows: list[dict[str, Any]], manifest: Manifest) -> pd.DataFrame:
    """Rows as the JSON decoder would give them: numbers float64 (None is NaN), strings
    object."""
    columns = {
        name: pd.Series(
            [row[name] for row in rows],
            dtype=np.float64 if TYPES[kind].numeric else object,
        )
        for name, kind in manifest.feature_types.items()
    }
    return pd.DataFrame(columns, columns=manifest.feature_names)


def spec_of(manifest: Manifest) -> TreesSpec:
    """The manifest's trees section.

    Raises
    ------
    ModelRejectedError
        If it has none.
    """
    if manifest.trees is None:
        msg = f"model {manifest.version or '(unpublished)'} of kind {manifest.kind} has no "
        raise ModelRejectedError(msg + "trees section")
    return manifest.trees


BoosterLoader = Callable[[bytes, int], Booster]
"""A library's `load_booster(payload, threads)`."""
Load = Callable[[bytes, Manifest, Sequence[str], bool], TreesPredictor]
"""A kind's `load(payload, manifest, trusted_types, unsafe_load)` (`flavors.base.KINDS`)."""


def loader(load_booster: BoosterLoader) -> Load:
    """The `load` of a tree library's kind: its booster from the artefact bytes, with the
    manifest's threads. The formats hold no code, so the pickle trust settings do not apply.
    """

    def load(
        payload: bytes,
        manifest: Manifest,
        trusted_types: Sequence[str] = (),
        unsafe_load: bool = False,
    ) -> TreesPredictor:
        return TreesPredictor(load_booster(payload, spec_of(manifest).threads), manifest)

    return load
