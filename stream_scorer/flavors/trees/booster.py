"""The one thing each tree library implements: a booster loaded from its own file format
(which holds no code), what the file says about itself, and its scores for a batch."""

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np
import pandas as pd

from stream_scorer.contract.trees_spec import Library
from stream_scorer.errors import ModelRejectedError
from stream_scorer.types import Scalar


@dataclass(frozen=True)
class BoosterInfo:
    """What a booster file records about the model, read at publish."""

    feature_names: list[str] | None
    """The names it was trained with, in order; None when it records none (trained on an
    array: XGBoost's f0..., LightGBM's Column_0..., CatBoost's 0...)."""
    categorical: list[bool]
    """Per feature: True when the booster splits it as a category."""
    objective: str
    num_class: int
    """Classes of a classifier (2 for binary); 0 for a regressor or ranker."""
    description: str
    """For humans: library, objective, trees."""
    classes: list[Scalar] | None = None
    """Class labels the file records (CatBoost), in score order."""
    categories: dict[str, list[str]] = field(default_factory=dict)
    """Categorical feature -> categories in code order (XGBoost, LightGBM)."""
    margin: bool = False
    """True when its scores are class margins (logits), not probabilities."""
    nullable_categories: bool = True
    """False when a categorical feature cannot be missing (CatBoost has no missing category)."""


class Booster(ABC):
    """A loaded booster; `scores` is thread-safe and runs with the threads it was loaded with."""

    @abstractmethod
    def info(self) -> BoosterInfo:
        """What the file records (publish reads it into the manifest).

        Raises
        ------
        ModelRejectedError
            If the model is one the predictor could not serve (multi-output, an objective
            with no probabilities...).
        """

    @abstractmethod
    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of the rows of `frame` (feature columns in the model's order, numbers as
        float64 with NaN missing, strings as object with None missing): (n,) regression
        values or P(second class), or (n, k) class probabilities or margins."""


def library(name: Library) -> ModuleType:
    """Import the library `name`, or say which extra installs it.

    Raises
    ------
    ModelRejectedError
        If it is not installed.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        msg = f"model kind {name} needs the {name} library: pip install 'stream-scorer[{name}]'"
        raise ModelRejectedError(msg) from exc


def refused_load(kind: Library, exc: Exception) -> ModelRejectedError:
    """A load failure as a refusal: the library's first message line (not its stack trace)."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return ModelRejectedError(f"{kind} cannot load the model: {reason}")
