"""A family's per-key models behind one interface, by the family's member format.

The format is the family manifest's `format`: 'pickle' for scikit-learn estimators (through
the restricted unpickler), or a tree library's own format for its scikit-learn wrappers
(`xgboost.XGBRegressor`... saved as the booster's UBJSON, `lightgbm.LGBM...` as its text
model), which hold no code. A native member is loaded with its library's booster loader and
predicted through the trees predictor, one thread per task; the class labels the wrapper
mapped (LightGBM's arbitrary labels, which its booster does not record) are stored beside it
in the family index (`artefact.Member.classes`).
"""

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stream_scorer.contract.manifest import Manifest, ModelFormat
from stream_scorer.contract.model_input import ModelInput
from stream_scorer.contract.trees_spec import Library, TreesSpec
from stream_scorer.errors import ConfigError, ModelRejectedError
from stream_scorer.flavors.base import Predictions
from stream_scorer.flavors.family.linear import Linear, linear_of
from stream_scorer.flavors.lightgbm.booster import load_booster as load_lightgbm
from stream_scorer.flavors.sklearn.describe import library_versions as sklearn_versions
from stream_scorer.flavors.sklearn.estimator import Estimator, estimator_name, has_classes
from stream_scorer.flavors.sklearn.predictor import load_estimator, predict_rows
from stream_scorer.flavors.trees.booster import Booster
from stream_scorer.flavors.trees.describe import library_versions as trees_versions
from stream_scorer.flavors.trees.predictor import BoosterLoader, TreesPredictor
from stream_scorer.flavors.xgboost.booster import load_booster as load_xgboost
from stream_scorer.types import TYPES, FieldType, Scalar

PICKLE: ModelFormat = "pickle"
_NATIVE: list[tuple[str, ModelFormat, tuple[str, ...]]] = [
    ("xgboost", "xgboost-ubj", ("XGBRegressor", "XGBClassifier")),
    ("lightgbm", "lightgbm-text", ("LGBMRegressor", "LGBMClassifier")),
]
NATIVE_ESTIMATORS: Mapping[str, ModelFormat] = {
    f"{package}{module}.{name}": fmt
    for package, fmt, names in _NATIVE
    for module in ("", ".sklearn")
    for name in names
}
"""Estimators (`model train --estimator`, e.g. 'xgboost.XGBRegressor' or its defining
module's path) whose models are stored in their library's own format; allowed without
`model.train_estimators`. Any other is pickled."""
THREADS = 1
"""Threads of a native member's predict: Spark already runs one task per core."""


class KeyModel(ABC):
    """One key's deserialised model."""

    regressor: bool
    classes: list[Scalar] | None
    """Its own classes in score order; None for a regressor."""
    name: str
    """For humans: estimator or booster."""

    @abstractmethod
    def predict(self, inputs: ModelInput, manifest: Manifest) -> Predictions:
        """Predict the rows of `inputs` (the family's `model_input`); `manifest` is the
        family's with this model's own classes. Never raises for bad rows."""

    def linear(self, manifest: Manifest) -> Linear | None:
        """Its parameters, if the family may score it stacked with other keys' (`linear`)."""
        return None


class SklearnKeyModel(KeyModel):
    """An estimator, predicted by `flavors.sklearn.predict_rows`."""

    def __init__(self, estimator: Estimator) -> None:
        from sklearn.base import is_regressor

        self.estimator = estimator
        self.regressor = bool(is_regressor(estimator))
        own = has_classes(estimator) and not self.regressor
        self.classes = np.asarray(estimator.classes_).tolist() if own else None  # type: ignore[attr-defined]
        self.name = estimator_name(estimator)

    def predict(self, inputs: ModelInput, manifest: Manifest) -> Predictions:
        return predict_rows(self.estimator, inputs, manifest)

    def linear(self, manifest: Manifest) -> Linear | None:
        return linear_of(self.estimator, manifest)


class TreesKeyModel(KeyModel):
    """A booster in its library's own format, predicted by `TreesPredictor`."""

    def __init__(
        self, booster: Booster, library: Library, classes: list[Scalar] | None, features: int
    ) -> None:
        info = booster.info()
        if len(classes or ()) != info.num_class:
            msg = f"{info.description} does not fit its recorded classes {classes}"
            raise ModelRejectedError(msg)
        if len(info.categorical) != features:
            msg = f"{info.description} takes {len(info.categorical)} features, not {features}"
            raise ModelRejectedError(msg)
        self.booster = booster
        self.regressor = classes is None
        self.classes = classes
        self.name = info.description
        self.spec = TreesSpec(
            library, info.objective, info.num_class, THREADS, info.categories, info.margin
        )
        self._bound: tuple[Manifest, TreesPredictor] | None = None

    def predict(self, inputs: ModelInput, manifest: Manifest) -> Predictions:
        bound = self._bound
        if bound is None or bound[0] is not manifest:  # the family passes the same one per key
            bound = (
                manifest,
                TreesPredictor(self.booster, dataclasses.replace(manifest, trees=self.spec)),
            )
            self._bound = bound
        return bound[1].predict(inputs)


MemberLoader = Callable[[bytes, list[Scalar] | None, Manifest, Sequence[str], bool], KeyModel]
"""(bytes, classes from the index, family manifest, trusted types, unsafe load) -> model."""


@dataclass(frozen=True)
class MemberFormat:
    """How a member format is written at training and read at serve."""

    dump: Callable[[Any], bytes]
    """A fitted estimator -> its member bytes (on the executors)."""
    load: MemberLoader
    versions: Callable[[], dict[str, str]]
    """Library versions to record in the manifest."""
    frame_input: bool
    """True when members take a features frame (else the spec's layout)."""


def _native(library: Library, load_booster: BoosterLoader, dump: Callable) -> MemberFormat:
    def load(
        payload: bytes,
        classes: list[Scalar] | None,
        manifest: Manifest,
        trusted_types: Sequence[str],
        unsafe_load: bool,
    ) -> KeyModel:
        booster = load_booster(payload, THREADS)
        return TreesKeyModel(booster, library, classes, len(manifest.feature_names))

    def versions() -> dict[str, str]:
        return sklearn_versions() | trees_versions(library)

    return MemberFormat(dump, load, versions, frame_input=True)


def _load_pickle(
    payload: bytes,
    classes: list[Scalar] | None,
    manifest: Manifest,
    trusted_types: Sequence[str],
    unsafe_load: bool,
) -> KeyModel:
    return SklearnKeyModel(load_estimator(payload, manifest, trusted_types, unsafe_load))


def _dump_pickle(model: Any) -> bytes:
    import pickle

    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


MEMBER_FORMATS: dict[ModelFormat, MemberFormat] = {
    PICKLE: MemberFormat(_dump_pickle, _load_pickle, sklearn_versions, frame_input=False),
    "xgboost-ubj": _native(
        "xgboost", load_xgboost, lambda m: bytes(m.get_booster().save_raw("ubj"))
    ),
    "lightgbm-text": _native(
        "lightgbm", load_lightgbm, lambda m: m.booster_.model_to_string().encode()
    ),
}


def member_format(estimator: str) -> ModelFormat:
    """The member format of models of the estimator import path `estimator`."""
    return NATIVE_ESTIMATORS.get(estimator, PICKLE)


def fit_params(estimator: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` of a key's fit: a native estimator fits with one thread (`n_jobs`) unless
    they say otherwise; XGBoost and LightGBM would take every core, beside Spark's tasks."""
    defaults = {"n_jobs": THREADS} if member_format(estimator) != PICKLE else {}
    return {**defaults, **params}


def format_of(manifest: Manifest) -> MemberFormat:
    """The member format of the family `manifest`.

    Raises
    ------
    ModelRejectedError
        If it is not one a family may hold.
    """
    found = MEMBER_FORMATS.get(manifest.format)
    if found is None:
        msg = f"a model family cannot hold {manifest.format} members; known: {list(MEMBER_FORMATS)}"
        raise ModelRejectedError(msg)
    return found


def classes_of(model: Any, fmt: ModelFormat) -> list[Scalar] | None:
    """The labels a fitted native classifier maps its scores to, to store beside its bytes
    (its booster does not record them); None for a regressor or a pickled model.

    Raises
    ------
    ValueError
        If the classifier saw one class (LightGBM fits it, as a binary booster).
    """
    if fmt == PICKLE or not hasattr(model, "classes_"):
        return None
    classes = np.asarray(model.classes_).tolist()
    if len(classes) < 2:
        msg = f"a classifier needs samples of at least 2 classes; these rows hold {classes}"
        raise ValueError(msg)
    return classes


def check_native_features(estimator: str, feature_types: Mapping[str, FieldType]) -> None:
    """Native members are trained on numeric features only.

    Raises
    ------
    ConfigError
        Naming the features that are not numeric.
    """
    if member_format(estimator) == PICKLE:
        return
    other = [name for name, kind in feature_types.items() if not TYPES[kind].numeric]
    if other:
        msg = f"{estimator} members take numeric features; {other} are not"
        raise ConfigError(msg)
