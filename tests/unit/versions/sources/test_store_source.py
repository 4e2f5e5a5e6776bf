"""StoreSource: which version of a model store each pointer names."""

import pytest

from stream_scorer.versions.sources.store import StoreSource


@pytest.fixture
def three_versions(store, published) -> None:
    for seed in range(3):
        published(seed=seed)
    store.set_current("v0002")


@pytest.mark.parametrize(
    ("pointer", "expected"),
    [("CURRENT", "v0002"), ("latest", "v0003"), ("v0001", "v0001"), ("v0009", None)],
)
def test_pointer_names_its_version(store, three_versions, pointer, expected):
    assert StoreSource(store.root, pointer).current_version() == expected


@pytest.mark.parametrize(
    ("pointer", "unset"),
    [
        ("CURRENT", "CURRENT is not set"),
        ("latest", "no version published yet"),
        ("v0009", "no version v0009"),
    ],
)
def test_empty_store_names_nothing_and_says_how_to_publish(store, pointer, unset):
    source = StoreSource(store.root, pointer)

    assert source.current_version() is None
    assert source.unset == f"{store.root}: {unset}; publish one with `stream-scorer model publish`"


def test_manifest_and_artefact_are_the_store_s(store, published):
    version = published()
    source = StoreSource(store.root)

    assert source.manifest(version) == store.manifest(version)
    assert source.read_artifact(version) == store.read_artifact(version)


def test_store_versions_are_signed_ones(store):
    assert StoreSource(store.root).signed is True
