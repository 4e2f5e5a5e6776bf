"""A family's models load through the restricted unpickler, and a family is signed like any
version: a hostile member never runs, a tampered family never serves."""

import dataclasses
import pickle

import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.contract.manifest import MANIFEST_FILE
from stream_scorer.errors import ModelRejectedError
from stream_scorer.features.routing import ROUTE_KEY
from stream_scorer.flavors.family.build import build_family
from stream_scorer.flavors.family.predictor import load
from stream_scorer.testing.models import WrappedClassifier
from stream_scorer.versions.signing import SIGNING_KEY_ENV
from stream_scorer.versions.verify import load_verified
from tests.family_helpers import (
    FEATURES,
    fit_locally,
    hostile_pickle,
    keyed_frame,
    swap_in_hostile_member,
)
from tests.scorer_helpers import NUMERIC

WRAPPER = f"{WrappedClassifier.__module__}.{WrappedClassifier.__name__}"


@pytest.fixture(scope="module")
def family():
    spec, fitted, _ = fit_locally(keyed_frame(3, 30), Ridge)
    return build_family(spec, fitted, {})


def test_hostile_member_is_refused_at_build_before_it_runs(tmp_path) -> None:
    spec, fitted, _ = fit_locally(keyed_frame(2, 30), Ridge)
    marker = tmp_path / "pwned"
    fitted[1] = dataclasses.replace(fitted[1], payload=hostile_pickle(marker))

    with pytest.raises(
        ModelRejectedError,
        match=r"^the model of key 'k0001': cannot load the pickle artefact: the artefact refers to "
        r"posix\.system",
    ):
        build_family(spec, fitted, {})

    assert not marker.exists()


def test_hostile_member_of_a_stored_family_never_runs_and_is_refused(
    store, family, tmp_path
) -> None:
    version = store.add(family[1], family[0]).version
    marker = tmp_path / "pwned"
    swap_in_hostile_member(store, version, "k0001", marker)

    with pytest.raises(
        ModelRejectedError,
        match=r"^v0001 refused: the model of key 'k0001': cannot load the pickle artefact: "
        r"the artefact refers to posix\.system",
    ):
        load_verified(store, version, NUMERIC, route_by="store")

    assert not marker.exists()


def test_hostile_member_never_runs_on_a_worker_either(store, family, tmp_path) -> None:
    """A worker's copy (no `extra`, no canary) loads a key on its first row: refused too."""
    version = store.add(family[1], family[0]).version
    marker = tmp_path / "pwned"
    swap_in_hostile_member(store, version, "k0001", marker)
    worker_manifest = dataclasses.replace(store.manifest(version), extra={})
    predictor = load(store.read_artifact(version), worker_manifest)
    rows = keyed_frame(1, 2)[FEATURES].assign(**{ROUTE_KEY: "k0001"})

    with pytest.raises(ModelRejectedError, match=r"posix\.system"):
        predictor.predict(rows)

    assert not marker.exists()


def test_members_outside_the_allowlist_load_only_when_trusted(store) -> None:
    frame = keyed_frame(2, 40)
    spec, fitted, _ = fit_locally(frame, LogisticRegression, target="label")
    wrapped = []
    for f in fitted:
        rows = frame[frame["store"] == f.key]
        model = LogisticRegression().fit(rows[FEATURES].to_numpy(), rows["label"].to_numpy())
        wrapped.append(dataclasses.replace(f, payload=pickle.dumps(WrappedClassifier(model))))
    with pytest.raises(ModelRejectedError, match=f"refers to {WRAPPER}"):
        build_family(spec, wrapped, {})

    payload, manifest = build_family(spec, wrapped, {}, trusted_types=[WRAPPER])
    version = store.add(manifest, payload).version

    assert store.manifest(version).trusted_types == [WRAPPER]
    with pytest.raises(ModelRejectedError, match=f"v0001 refused: .*refers to {WRAPPER}"):
        load_verified(store, version, NUMERIC, route_by="store")
    verified = load_verified(store, version, NUMERIC, trusted_types=[WRAPPER], route_by="store")
    assert verified.version == version


def test_family_with_a_signing_key_is_signed_and_loads(store, family, monkeypatch) -> None:
    monkeypatch.setenv(SIGNING_KEY_ENV, "k3y-for-tests-only")

    version = store.add(family[1], family[0]).version

    assert store.manifest(version).signature
    assert load_verified(store, version, NUMERIC, route_by="store").version == version


def test_family_whose_key_listing_changed_after_signing_is_refused(
    store, family, monkeypatch
) -> None:
    monkeypatch.setenv(SIGNING_KEY_ENV, "k3y-for-tests-only")
    version = store.add(family[1], family[0]).version
    manifest = store.manifest(version)
    info = FamilyInfo.of(manifest)
    assert info is not None
    keys = {k: dataclasses.replace(s, rows=s.rows + 1) for k, s in info.keys.items()}
    tampered = dataclasses.replace(
        manifest, extra={"family": dataclasses.replace(info, keys=keys).to_extra()}
    )
    (store.root / version / MANIFEST_FILE).write_text(tampered.to_json())

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: signature does not match"):
        load_verified(store, version, NUMERIC, route_by="store")


def test_unsigned_family_is_refused_when_the_key_is_set(store, family, monkeypatch) -> None:
    version = store.add(family[1], family[0]).version
    monkeypatch.setenv(SIGNING_KEY_ENV, "k3y-for-tests-only")

    with pytest.raises(
        ModelRejectedError, match=rf"^v0001 refused: unsigned, and {SIGNING_KEY_ENV}"
    ):
        load_verified(store, version, NUMERIC, route_by="store")


def test_a_family_added_while_a_newer_version_is_current_leaves_current_alone(
    store, family
) -> None:
    first = store.add(family[1], family[0], advance=False)
    second = store.add(family[1], family[0], force=True)  # the same family twice

    assert store.advance_current(first.version) == second.version
    assert store.current_version() == second.version
