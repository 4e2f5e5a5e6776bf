"""A family published as one version: its manifest, and verification as the scorer loads it."""

import hashlib
import re

import pytest
from sklearn.linear_model import Ridge

from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.family.build import build_family
from stream_scorer.flavors.family.predictor import FamilyPredictor
from stream_scorer.versions.sources.store import StoreSource
from stream_scorer.versions.verify import load_verified
from tests.family_helpers import fit_locally, keyed_frame
from tests.scorer_helpers import NUMERIC


@pytest.fixture(scope="module")
def family():
    spec, fitted, _ = fit_locally(keyed_frame(3, 30), Ridge, fallback=True)
    return build_family(spec, fitted, {"k0009": "2 training rows, fewer than --min-rows 5"})


def test_manifest_lists_every_key_with_its_sha256_and_metrics(family) -> None:
    payload, manifest = family

    info = FamilyInfo.of(manifest)

    assert manifest.kind == "family"
    assert manifest.sha256 == hashlib.sha256(payload).hexdigest()
    assert info is not None
    assert sorted(info.keys) == ["k0000", "k0001", "k0002"]
    assert [s.rows for s in info.keys.values()] == [30, 30, 30]
    assert info.fallback is not None and info.fallback.rows == 90
    assert info.skipped == {"k0009": "2 training rows, fewer than --min-rows 5"}
    assert len(manifest.canary.rows) == 8


def test_published_family_loads_verified_with_route_by(store, family) -> None:
    version = store.add(family[1], family[0]).version

    verified = load_verified(store, version, NUMERIC, route_by="store")

    assert isinstance(verified.predictor, FamilyPredictor)
    assert FamilyInfo.of(verified.manifest) == FamilyInfo.of(family[1])


def test_family_is_refused_without_route_by(store, family) -> None:
    store.add(family[1], family[0])

    with pytest.raises(ModelRejectedError, match="v0001 refused: it is a family of per-key"):
        load_verified(store, "v0001", NUMERIC)


def test_family_as_a_shadow_is_refused_saying_so(store, published, family) -> None:
    published("regression")
    store.add(family[1], family[0], advance=False)
    shadow = StoreSource(store.root, "latest")

    with pytest.raises(ModelRejectedError, match=r"v0002 refused: .*never as model\.shadow"):
        load_verified(shadow, shadow.current_version(), NUMERIC)


def test_single_model_is_refused_with_route_by(store, published) -> None:
    version = published("regression")

    with pytest.raises(ModelRejectedError, match="route_by is 'store', but this is a single"):
        load_verified(store, version, NUMERIC, route_by="store")


def test_tampered_family_artefact_is_refused(store, family) -> None:
    version = store.add(family[1], family[0]).version
    path = store.root / version / "family.bin"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))

    with pytest.raises(ModelRejectedError, match="v0001 refused: sha256 mismatch"):
        load_verified(store, version, NUMERIC, route_by="store")


def test_family_without_any_fitted_key_is_refused() -> None:
    spec, _, _ = fit_locally(keyed_frame(1, 5), Ridge)

    with pytest.raises(
        ModelRejectedError, match=re.escape("no key got a model (1 skipped: k0000: boom)")
    ):
        build_family(spec, [], {"k0000": "boom"})
