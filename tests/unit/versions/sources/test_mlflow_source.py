"""MlflowSource against a real local MLflow backend (SQLite registry): resolve, describe, refuse."""

import os
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import tomllib
from sklearn.linear_model import LinearRegression

from stream_scorer.config.model_uri import parse_model_uri
from stream_scorer.errors import ConfigError, ModelRejectedError
from stream_scorer.testing.models import ThresholdRaisingClassifier
from stream_scorer.versions.signing import SIGNING_KEY_ENV
from stream_scorer.versions.sources.mlflow import PROGRESS_BAR_ENV, MlflowSource
from stream_scorer.versions.sources.mlflow_manifest import CANARY_ROWS
from stream_scorer.versions.verify import load_verified
from tests.mlflow_helpers import ConstantPyfunc, LocalMlflow
from tests.scorer_helpers import NUMERIC


@pytest.fixture(scope="module")
def backend(tmp_path_factory) -> LocalMlflow:
    return LocalMlflow(tmp_path_factory.mktemp("mlflow"))


@pytest.fixture
def name(request) -> str:
    """A registered model name of its own for each test."""
    return request.node.name.replace("[", "-").replace("]", "")


@pytest.fixture
def example() -> pd.DataFrame:
    return pd.DataFrame(np.arange(24, dtype=np.float64).reshape(6, 4) / 10, columns=list(NUMERIC))


def source(backend: LocalMlflow, uri: str, feature_types=NUMERIC) -> MlflowSource:
    return MlflowSource(parse_model_uri(uri), backend.tracking_uri, feature_types, [])


def test_alias_resolves_to_name_and_registry_version(backend, name, demo_model):
    backend.register(name, demo_model("binary"))
    backend.register(name, demo_model("binary", 1))
    backend.set_alias(name, "champion", "2")

    assert source(backend, f"models:/{name}@champion").current_version() == f"{name}/2"


def test_alias_not_set_resolves_to_none(backend, name, demo_model):
    backend.register(name, demo_model("binary"))

    assert source(backend, f"models:/{name}@champion").current_version() is None


def test_unknown_model_resolves_to_none(backend):
    assert source(backend, "models:/never-registered@champion").current_version() is None


def test_fixed_version_resolves_only_while_it_exists(backend, name, demo_model):
    backend.register(name, demo_model("binary"))

    assert source(backend, f"models:/{name}/1").current_version() == f"{name}/1"
    assert source(backend, f"models:/{name}/2").current_version() is None


def test_sklearn_version_verifies_with_signature_types_and_example_canary(
    backend, name, demo_model, example
):
    backend.register(name, demo_model("binary"), example)
    model = source(backend, f"models:/{name}@champion")

    verified = load_verified(model, f"{name}/1", NUMERIC)

    manifest = verified.manifest
    assert (manifest.version, manifest.file, manifest.format) == (
        f"{name}/1",
        "model.skops",
        "skops",
    )
    assert manifest.feature_types == NUMERIC
    assert manifest.canary.rows == example.to_dict("records")
    assert manifest.canary.predictions == demo_model("binary").predict(example).tolist()
    assert manifest.library_versions["mlflow"] == mlflow.__version__


def test_canary_keeps_the_first_rows_of_a_long_example(backend, name, demo_model):
    long = pd.DataFrame(np.random.default_rng(0).random((50, 4)), columns=list(NUMERIC))
    backend.register(name, demo_model("binary"), long)

    manifest = source(backend, f"models:/{name}/1").manifest(f"{name}/1")

    assert manifest.canary.rows == long.head(CANARY_ROWS).to_dict("records")


def test_cloudpickle_version_loads_through_our_pickle_loader(backend, name, demo_model, example):
    backend.register(name, demo_model("binary"), example, serialization_format="cloudpickle")

    verified = load_verified(source(backend, f"models:/{name}/1"), f"{name}/1", NUMERIC)

    assert (verified.manifest.file, verified.manifest.format) == ("model.pkl", "pickle")


def test_model_without_signature_takes_the_config_schema(backend, name, demo_model):
    backend.register(name, demo_model("binary"))

    manifest = source(backend, f"models:/{name}/1").manifest(f"{name}/1")

    assert manifest.feature_types == NUMERIC
    assert len(manifest.canary.rows) == 3  # synthetic, as `model publish` makes them


def test_pyfunc_of_another_flavour_is_refused_naming_the_supported_ones(backend, name, example):
    backend.register(name, ConstantPyfunc(), example)

    with pytest.raises(ModelRejectedError) as caught:
        load_verified(source(backend, f"models:/{name}/1"), f"{name}/1", NUMERIC)

    assert str(caught.value) == (
        f"{name}/1 refused: MLflow flavours ['python_function'] are not supported; "
        "supported: ['sklearn', 'xgboost', 'lightgbm', 'catboost', 'onnx']"
    )


def test_native_catboost_version_verifies_and_a_pickled_lightgbm_wrapper_is_refused(
    backend, name, example
):
    import catboost
    import lightgbm

    y = (example["f0"] > 1).astype(int).to_numpy()
    boosted = catboost.CatBoostClassifier(iterations=3, verbose=0, allow_writing_files=False)
    backend.register_native(name, "catboost", boosted.fit(example, y), example)
    wrapper = lightgbm.LGBMClassifier(n_estimators=2, min_child_samples=1, verbose=-1)
    backend.register_native(name, "lightgbm", wrapper.fit(example, y), example)

    verified = load_verified(source(backend, f"models:/{name}/1"), f"{name}/1", NUMERIC)
    with pytest.raises(ModelRejectedError) as caught:
        load_verified(source(backend, f"models:/{name}/2"), f"{name}/2", NUMERIC)

    assert verified.manifest.kind == "catboost"
    assert (
        verified.predictor.predict(example).prediction.tolist() == boosted.predict(example).tolist()
    )
    assert str(caught.value).startswith(
        f"{name}/2 refused: the lightgbm flavour holds the scikit-learn wrapper "
        "lightgbm.sklearn.LGBMClassifier (model.skops), not a booster; log the booster instead"
    )


def test_signature_types_that_differ_from_the_config_are_refused(backend, name):
    ints = pd.DataFrame({n: [1, 2, 3, 4] for n in NUMERIC})
    backend.register(name, LinearRegression().fit(ints, [1.0, 2.0, 3.0, 4.0]), ints)

    with pytest.raises(ModelRejectedError, match="feature schema mismatch: types differ: f0 "):
        load_verified(source(backend, f"models:/{name}/1"), f"{name}/1", NUMERIC)


def test_bytes_changed_after_the_first_fetch_are_refused_by_sha256(
    backend, name, demo_model, example
):
    backend.register(name, demo_model("binary"), example)
    model = source(backend, f"models:/{name}/1")
    load_verified(model, f"{name}/1", NUMERIC)
    backend.artefact(name, "1", "model.skops").write_bytes(b"tampered")

    with pytest.raises(ModelRejectedError, match=rf"^{name}/1 refused: sha256 mismatch"):
        load_verified(model, f"{name}/1", NUMERIC)


def test_refused_version_is_not_downloaded_again(backend, name, example, monkeypatch):
    backend.register(name, ConstantPyfunc(), example)
    model = source(backend, f"models:/{name}/1")
    with pytest.raises(ModelRejectedError):
        model.manifest(f"{name}/1")
    monkeypatch.setattr(model, "_download", lambda *args: pytest.fail("downloaded again"))

    with pytest.raises(ModelRejectedError, match="flavours"):
        model.manifest(f"{name}/1")


def test_missing_tracking_uri_is_a_config_error(monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)

    with pytest.raises(ConfigError, match=r"model\.tracking_uri is not set"):
        MlflowSource(parse_model_uri("models:/m@champion"), None, NUMERIC, [])


def test_tracking_uri_comes_from_the_environment_when_unset(monkeypatch, backend):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", backend.tracking_uri)

    model = MlflowSource(parse_model_uri("models:/m@champion"), None, NUMERIC, [])

    assert model.tracking_uri == backend.tracking_uri


RAISING_TYPE = "stream_scorer.testing.models.ThresholdRaisingClassifier"


@pytest.fixture
def custom_model(example):
    return ThresholdRaisingClassifier(5.0).fit(example, [0, 1, 0, 1, 0, 1])


def test_a_class_outside_the_allowlist_is_refused_by_the_restricted_loader(
    backend, name, custom_model, example
):
    backend.register(name, custom_model, example, serialization_format="cloudpickle")

    with pytest.raises(ModelRejectedError) as caught:
        load_verified(source(backend, f"models:/{name}/1"), f"{name}/1", NUMERIC)

    assert f"refers to {RAISING_TYPE}, which is not an allowed global" in str(caught.value)


def test_a_class_the_config_trusts_loads_and_the_manifest_records_it(
    backend, name, custom_model, example
):
    backend.register(name, custom_model, example, serialization_format="cloudpickle")
    uri = parse_model_uri(f"models:/{name}/1")
    model = MlflowSource(uri, backend.tracking_uri, NUMERIC, [RAISING_TYPE])

    verified = load_verified(model, f"{name}/1", NUMERIC, trusted_types=[RAISING_TYPE])

    assert verified.manifest.trusted_types == [RAISING_TYPE]
    assert verified.manifest.unsafe_load is False


def test_versions_are_unsigned_so_a_signing_key_is_not_asked_of_them(
    backend, name, demo_model, example, monkeypatch, caplog
):
    backend.register(name, demo_model("binary"), example)
    monkeypatch.setenv(SIGNING_KEY_ENV, "secret")

    model = source(backend, f"models:/{name}/1")
    verified = load_verified(model, f"{name}/1", NUMERIC, check_signature=model.signed)

    assert model.signed is False
    assert verified.manifest.signature == ""
    assert "signing covers the model store only" in caplog.text
    with pytest.raises(ModelRejectedError, match="unsigned, and STREAM_SCORER_SIGNING_KEY"):
        load_verified(model, f"{name}/1", NUMERIC)  # as a store version would be checked


def test_downloads_draw_no_progress_bar_unless_the_user_asks(backend, monkeypatch):
    monkeypatch.delenv(PROGRESS_BAR_ENV, raising=False)
    source(backend, "models:/any@champion")
    assert os.environ[PROGRESS_BAR_ENV] == "false"
    monkeypatch.setenv(PROGRESS_BAR_ENV, "true")
    source(backend, "models:/any@champion")
    assert os.environ[PROGRESS_BAR_ENV] == "true"


def test_the_mlflow_extra_installs_skops_which_mlflow_3_logs_sklearn_models_with() -> None:
    """MLflow 3 saves sklearn models as model.skops (see the test of the sklearn version)."""
    project = tomllib.loads((Path(__file__).parents[4] / "pyproject.toml").read_text())
    extra = project["project"]["optional-dependencies"]["mlflow"]

    assert any(requirement.startswith("skops") for requirement in extra)
