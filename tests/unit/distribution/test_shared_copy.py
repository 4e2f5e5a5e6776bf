"""One cache file serves every artefact of the same bytes: the served model and its shadow."""

from stream_scorer.distribution.broadcast import BroadcastArtefact
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.distribution.cached_file import CachedFileArtefact


def _cached(sha256: str, directory: str = "/cache", key: str = "v0001") -> CachedFileArtefact:
    return CachedFileArtefact(
        "/store/model.joblib", sha256, ".joblib", ArtefactCache(directory), key
    )


def test_artefacts_of_the_same_bytes_in_one_cache_share_the_copy():
    assert _cached("a" * 64, key="v0001@a").shares_copy_with(_cached("a" * 64, key="v0002@a"))


def test_other_bytes_or_another_cache_directory_do_not_share():
    assert not _cached("a" * 64).shares_copy_with(_cached("b" * 64))
    assert not _cached("a" * 64).shares_copy_with(_cached("a" * 64, directory="/elsewhere"))


def test_broadcasts_never_share():
    broadcast = BroadcastArtefact(object())  # type: ignore[arg-type]
    assert not broadcast.shares_copy_with(broadcast)
    assert not _cached("a" * 64).shares_copy_with(broadcast)
