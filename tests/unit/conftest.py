"""Unit fixtures: demo models trained once, a model store, a file-publishing helper."""

from collections.abc import Callable
from pathlib import Path

import pytest

from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.scorer_helpers import NUMERIC, TEXT


@pytest.fixture(scope="session")
def demo_model() -> Callable[[str, int], object]:
    """`demo_model(kind, seed=0)`: a demo estimator, trained once per session."""
    cache: dict[tuple[str, int], object] = {}

    def get(kind: str, seed: int = 0) -> object:
        if (kind, seed) not in cache:
            cache[kind, seed] = train_demo_model(kind, n_features=4, seed=seed)
        return cache[kind, seed]

    return get


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    """An empty model store under the test's tmp dir."""
    return ModelStore(tmp_path / "store")


@pytest.fixture
def model_file(tmp_path: Path, demo_model) -> Callable[..., Path]:
    """`model_file(kind, ext='joblib', seed=0)`: a saved demo model file."""

    def make(kind: str = "binary", ext: str = "joblib", seed: int = 0) -> Path:
        return save_model(demo_model(kind, seed), tmp_path / f"{kind}-{seed}.{ext}")

    return make


@pytest.fixture
def published(store: ModelStore, model_file) -> Callable[..., str]:
    """`published(kind='binary', ext='joblib', seed=0)`: publish a demo model, return version."""

    def publish(kind: str = "binary", ext: str = "joblib", seed: int = 0) -> str:
        schema = TEXT if kind == "text" else NUMERIC
        return publish_sklearn(store, model_file(kind, ext, seed), schema).version

    return publish
