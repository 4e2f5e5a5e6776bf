"""The per-machine artefact cache: fetched once, verified, atomic, bounded, refetched if altered."""

import hashlib
import multiprocessing
import os
import resource
import signal
from pathlib import Path

import pytest

from stream_scorer.distribution import cache as cache_module
from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.errors import ArtefactCacheError, ModelRejectedError, ModelStoreError


def _source(tmp_path: Path, size: int = 1 << 20, seed: int = 0) -> tuple[str, str]:
    data = (hashlib.sha256(str(seed).encode()).digest() * (size // 32 + 1))[:size]
    path = tmp_path / f"model-{seed}.joblib"
    path.write_bytes(data)
    return str(path), hashlib.sha256(data).hexdigest()


def _names(cache: ArtefactCache) -> list[str]:
    return sorted(p.name for p in cache.root.iterdir() if p.name != ".lock")


def test_materialised_copy_has_the_source_bytes(tmp_path):
    source, sha = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))

    path = cache.materialise(source, sha, ".joblib")

    assert path == tmp_path / "cache" / f"{sha}.joblib"
    assert path.read_bytes() == Path(source).read_bytes()


def test_second_materialise_reuses_the_copy(tmp_path):
    source, sha = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))
    inode = cache.materialise(source, sha, ".joblib").stat().st_ino
    os.remove(source)  # a refetch would now fail

    assert cache.materialise(source, sha, ".joblib").stat().st_ino == inode


def test_tampered_copy_is_fetched_again(tmp_path):
    source, sha = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))
    path = cache.materialise(source, sha, ".joblib")
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))

    again = cache.materialise(source, sha, ".joblib")

    assert hashlib.sha256(again.read_bytes()).hexdigest() == sha


def test_source_with_another_sha256_is_refused_and_nothing_is_kept(tmp_path):
    source, _ = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))

    with pytest.raises(ModelRejectedError, match=r"model-0.joblib: sha256 mismatch \(manifest"):
        cache.materialise(source, "0" * 64, ".joblib")
    assert _names(cache) == []


def test_unreadable_source_raises_model_store_error(tmp_path):
    cache = ArtefactCache(str(tmp_path / "cache"))

    with pytest.raises(ModelStoreError, match=r"missing\.joblib: cannot read the model artefact"):
        cache.materialise(str(tmp_path / "missing.joblib"), "0" * 64, ".joblib")


def test_full_disk_raises_artefact_cache_error_and_leaves_no_part_file(tmp_path):
    source, sha = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 16, hard))
    try:
        with pytest.raises(ArtefactCacheError, match=r"cannot store .*MiB free.*model\.cache_dir"):
            cache.materialise(source, sha, ".joblib")
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert _names(cache) == []


def test_cache_keeps_the_newest_artefacts(tmp_path):
    cache = ArtefactCache(str(tmp_path / "cache"), keep=2)
    shas = []
    for seed in range(3):
        source, sha = _source(tmp_path, seed=seed)
        cache.materialise(source, sha, ".joblib")
        shas.append(sha)

    assert _names(cache) == sorted(f"{sha}.joblib" for sha in shas[1:])


def test_discard_removes_the_artefact(tmp_path):
    source, sha = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))
    cache.materialise(source, sha, ".joblib")

    cache.discard(sha)

    assert _names(cache) == []


def _materialise_counting(cache, source, sha, barrier, fetches: str) -> None:
    opened = cache_module.open_source

    def counting(url: str, options):
        with open(fetches, "a") as log:
            log.write("fetch\n")
        return opened(url, options)

    cache_module.open_source = counting
    barrier.wait()
    cache.materialise(source, sha, ".joblib")


def test_concurrent_materialisations_fetch_once(tmp_path):
    source, sha = _source(tmp_path, size=32 << 20)
    cache = ArtefactCache(str(tmp_path / "cache"))
    fetches = tmp_path / "fetches"
    fetches.touch()
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    args = (cache, source, sha, barrier, str(fetches))
    workers = [context.Process(target=_materialise_counting, args=args) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)

    assert [w.exitcode for w in workers] == [0, 0]
    assert fetches.read_text() == "fetch\n"
    assert _names(cache) == [f"{sha}.joblib"]


def test_cache_directory_is_private_and_its_copies_read_only(tmp_path):
    source, sha = _source(tmp_path)
    root = tmp_path / "cache"
    root.mkdir(mode=0o777)
    root.chmod(0o777)  # as a shared temp directory might be
    cache = ArtefactCache(str(root))

    path = cache.materialise(source, sha, ".joblib")

    assert root.stat().st_mode & 0o777 == 0o700
    assert path.stat().st_mode & 0o777 == 0o444


def test_copy_overwritten_in_place_is_noticed_and_fetched_again(tmp_path):
    source, sha = _source(tmp_path)
    cache = ArtefactCache(str(tmp_path / "cache"))
    path = cache.materialise(source, sha, ".joblib")
    assert not cache.changed(path, sha)
    with open(path, "r+b") as handle:  # same size, same inode: only the bytes differ
        handle.seek(100)
        handle.write(b"\x00" * 16)

    assert cache.changed(path, sha)
    again = cache.materialise(source, sha, ".joblib")
    assert hashlib.sha256(again.read_bytes()).hexdigest() == sha
    assert not cache.changed(again, sha)
