"""Manifest signing: with a key set, only versions signed with it load."""

import dataclasses
import hashlib
import hmac
import json

import pytest

from stream_scorer.errors import ModelRejectedError
from stream_scorer.versions.signing import SIGNING_KEY_ENV
from stream_scorer.versions.verify import load_verified
from tests.scorer_helpers import NUMERIC

KEY = "k3y-for-tests-only"


@pytest.fixture
def key(monkeypatch) -> str:
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)
    return KEY


def test_publish_with_the_key_signs_the_sha256_and_the_canonical_manifest(store, published, key):
    manifest = store.manifest(published())

    fields = json.loads((store.root / "v0001" / "manifest.json").read_text())
    del fields["signature"]
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    message = f"{manifest.sha256}\n{canonical}".encode()
    assert manifest.signature == hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def test_signed_version_loads_with_the_key(store, published, key):
    version = published()

    assert load_verified(store, version, NUMERIC).version == "v0001"


def test_publish_without_the_key_leaves_the_manifest_unsigned(store, published):
    assert store.manifest(published()).signature == ""


def test_unsigned_version_is_refused_when_the_key_is_set(store, published, monkeypatch):
    version = published()
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)

    with pytest.raises(
        ModelRejectedError, match=rf"^v0001 refused: unsigned, and {SIGNING_KEY_ENV}"
    ):
        load_verified(store, version, NUMERIC)


def test_tampered_manifest_is_refused(store, published, key):
    version = published()
    manifest = store.manifest(version)
    canary = dataclasses.replace(manifest.canary, predictions=[1, 1, 1])
    tampered = dataclasses.replace(manifest, canary=canary)
    (store.root / version / "manifest.json").write_text(tampered.to_json())

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: signature does not match"):
        load_verified(store, version, NUMERIC)


def test_version_signed_with_another_key_is_refused(store, published, monkeypatch):
    monkeypatch.setenv(SIGNING_KEY_ENV, "another-key")
    version = published()
    monkeypatch.setenv(SIGNING_KEY_ENV, KEY)

    with pytest.raises(ModelRejectedError, match=r"^v0001 refused: signature does not match"):
        load_verified(store, version, NUMERIC)
