"""The family artefact: one file of per-key model bytes, each checked by sha256 on use."""

import hashlib

import pytest

from stream_scorer.errors import ModelRejectedError
from stream_scorer.flavors.family.artefact import FamilyArtefact, pack


def test_members_and_fallback_read_back_as_packed() -> None:
    artefact = FamilyArtefact(pack({"a": b"model a", "b": b"bb"}, fallback=b"all rows"))

    assert {k: artefact.member_bytes(k, m) for k, m in artefact.members.items()} == {
        "a": b"model a",
        "b": b"bb",
    }
    assert artefact.fallback is not None
    assert artefact.member_bytes("fallback", artefact.fallback) == b"all rows"
    assert artefact.members["b"].sha256 == hashlib.sha256(b"bb").hexdigest()


def test_family_without_fallback_has_none() -> None:
    assert FamilyArtefact(pack({"a": b"x"})).fallback is None


def test_changed_member_bytes_are_refused_naming_the_key() -> None:
    payload = pack({"a": b"model a", "b": b"model b"}).replace(b"model b", b"model X")
    artefact = FamilyArtefact(payload)

    with pytest.raises(ModelRejectedError, match="model of key 'b' does not match its sha256"):
        artefact.member_bytes("b", artefact.members["b"])


def test_bytes_that_are_not_a_family_are_refused() -> None:
    with pytest.raises(ModelRejectedError, match="not a model family artefact"):
        FamilyArtefact(b"\x80\x05 a pickle")


def test_family_with_a_broken_index_is_refused() -> None:
    payload = pack({"a": b"x"})
    broken = payload.replace(b'"members"', b'"memberz"')

    with pytest.raises(ModelRejectedError, match="index does not parse"):
        FamilyArtefact(broken)
