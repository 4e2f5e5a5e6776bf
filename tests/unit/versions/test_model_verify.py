"""load_verified: what it accepts, and each refusal with its reason."""

import dataclasses
import hashlib
import io
import operator
import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from stream_scorer.contract.manifest import Manifest
from stream_scorer.devtools.demo_models import save_model
from stream_scorer.errors import ModelRejectedError
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.verify import load_verified
from tests.scorer_helpers import NUMERIC, TEXT


class _CreatesFile:
    """Unpickling this calls open(path, 'w'): the file appearing proves code ran on load."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _rewrite_manifest(store, version, **changes) -> None:
    manifest = dataclasses.replace(store.manifest(version), **changes)
    (store.root / version / "manifest.json").write_text(manifest.to_json())


def _replace_artefact(store, version, data: bytes, recompute_sha: bool) -> None:
    manifest = store.manifest(version)
    (store.root / version / manifest.file).write_bytes(data)
    if recompute_sha:
        _rewrite_manifest(store, version, sha256=hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize(("kind", "ext"), [("binary", "joblib"), ("text", "skops")])
def test_published_model_verifies_and_loads(store, published, kind, ext):
    version = published(kind, ext)

    verified = load_verified(store, version, TEXT if kind == "text" else NUMERIC)

    assert verified.version == version
    assert verified.manifest == store.manifest(version)
    assert verified.payload == store.read_artifact(version)
    assert verified.predictor.manifest == verified.manifest


def test_flipped_byte_is_refused_by_sha256(store, published):
    version = published()
    data = bytearray(store.read_artifact(version))
    data[len(data) // 2] ^= 0xFF
    _replace_artefact(store, version, bytes(data), recompute_sha=False)

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: sha256 mismatch \(manifest "):
        load_verified(store, version, NUMERIC)


def test_pickle_that_would_create_a_file_is_refused_before_loading(store, published, tmp_path):
    version = published("binary", "pkl")
    marker, proof = tmp_path / "pwned", tmp_path / "proof"
    pickle.loads(pickle.dumps(_CreatesFile(str(proof))))
    assert proof.exists()  # the payload really runs code when unpickled
    _replace_artefact(store, version, pickle.dumps(_CreatesFile(str(marker))), False)

    with pytest.raises(ModelRejectedError, match="sha256 mismatch"):
        load_verified(store, version, NUMERIC)
    assert not marker.exists()


def test_corrupt_artefact_with_matching_sha256_is_refused(store, published):
    version = published()
    _replace_artefact(store, version, b"\x80\x04 not a model" * 8, recompute_sha=True)

    with pytest.raises(
        ModelRejectedError, match=r"^v0001 refused: cannot load the joblib artefact"
    ):
        load_verified(store, version, NUMERIC)


def test_missing_manifest_is_refused_naming_the_version(store, published):
    version = published()
    (store.root / version / "manifest.json").unlink()

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: .*cannot read manifest"):
        load_verified(store, version, NUMERIC)


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"f0": "double", "f1": "double", "f2": "double"},
         r"model features not in the config schema: \['f3'\]"),
        ({"f0": "double", "f1": "double", "f2": "double", "x": "double"},
         r"config features the model does not take: \['x'\]"),
        ({"f3": "double", "f0": "double", "f1": "double", "f2": "double"}, "order differs"),
        ({**NUMERIC, "f2": "string"}, r"types differ: f2 \(model double, config string\)"),
    ],
    ids=["fewer features", "other names", "another order", "another type"],
)  # fmt: skip
def test_schema_unlike_the_models_is_refused(store, published, schema, reason):
    version = published()

    with pytest.raises(ModelRejectedError, match=reason):
        load_verified(store, version, schema)


def test_other_scikit_learn_version_is_refused(store, published):
    version = published()
    versions = {**store.manifest(version).library_versions, "scikit-learn": "0.24.2"}
    _rewrite_manifest(store, version, library_versions=versions)

    with pytest.raises(ModelRejectedError, match=r"saved with scikit-learn 0\.24\.2, running"):
        load_verified(store, version, NUMERIC)


def test_other_scikit_learn_version_loads_when_allowed(store, published):
    version = published()
    versions = {**store.manifest(version).library_versions, "scikit-learn": "0.24.2"}
    _rewrite_manifest(store, version, library_versions=versions)

    verified = load_verified(store, version, NUMERIC, allow_library_mismatch=True)

    assert verified.version == version


def test_canary_with_other_predictions_is_refused(store, published):
    version = published()
    canary = store.manifest(version).canary
    flipped = [1 - p for p in canary.predictions]
    _rewrite_manifest(store, version, canary=dataclasses.replace(canary, predictions=flipped))

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: canary mismatch: predictions"):
        load_verified(store, version, NUMERIC)


def test_canary_with_other_probabilities_is_refused(store, published):
    version = published()
    canary = store.manifest(version).canary
    shifted = (np.asarray(canary.probabilities) + 0.01).tolist()
    _rewrite_manifest(store, version, canary=dataclasses.replace(canary, probabilities=shifted))

    with pytest.raises(ModelRejectedError, match="canary mismatch: probabilities"):
        load_verified(store, version, NUMERIC)


def test_regression_canary_within_float_tolerance_is_accepted(store, published):
    version = published("regression")
    canary = store.manifest(version).canary
    nudged = [p * (1 + 1e-12) for p in canary.predictions]
    _rewrite_manifest(store, version, canary=dataclasses.replace(canary, predictions=nudged))

    assert load_verified(store, version, NUMERIC).version == version


def test_manifest_naming_another_version_is_refused(store, published):
    published(seed=0)
    published(seed=1)
    manifest_v1 = (store.root / "v0001" / "manifest.json").read_text()
    (store.root / "v0002" / "manifest.json").write_text(manifest_v1)

    with pytest.raises(ModelRejectedError, match=r"^v0002 refused: its manifest names version"):
        load_verified(store, "v0002", NUMERIC)


@pytest.fixture
def skops_with_untrusted_type(store, tmp_path) -> Manifest:
    """A skops pipeline holding `_operator.neg`, which skops does not trust by default."""
    frame = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 4)), columns=list(NUMERIC))
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression())
    path = save_model(model.fit(frame, frame["f0"] > 0), tmp_path / "neg.skops")
    return publish_sklearn(store, path, NUMERIC, trusted_types=["_operator.neg"])


def test_skops_artefact_with_an_untrusted_type_is_refused(store, skops_with_untrusted_type):
    version = skops_with_untrusted_type.version

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: .*\['_operator.neg'\]"):
        load_verified(store, version, NUMERIC)


def test_skops_artefact_loads_when_its_type_is_trusted(store, skops_with_untrusted_type):
    version = skops_with_untrusted_type.version

    verified = load_verified(store, version, NUMERIC, trusted_types=("_operator.neg",))

    assert verified.manifest.format == "skops"


def test_multi_output_model_stored_by_another_tool_is_refused_at_load(store, published):
    from sklearn.linear_model import LinearRegression

    version = published("regression")
    x = np.random.default_rng(0).normal(size=(40, len(NUMERIC)))
    two_outputs = LinearRegression().fit(pd.DataFrame(x, columns=list(NUMERIC)), x[:, :2])
    buffer = io.BytesIO()
    joblib.dump(two_outputs, buffer)
    _replace_artefact(store, version, buffer.getvalue(), recompute_sha=True)

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: .*predict gave shape \(3, 2\)"):
        load_verified(store, version, NUMERIC)
