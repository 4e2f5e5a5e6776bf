"""ModelStore: layout, atomic CURRENT, version numbering, rollback."""

import multiprocessing
import os
import shutil
import threading
from pathlib import Path

import pytest

from stream_scorer.errors import DuplicateModelError, ModelStoreError
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.scorer_helpers import NUMERIC


def test_publish_writes_artefact_manifest_and_current(store, published):
    assert published() == "v0001"

    assert sorted(os.listdir(store.root / "v0001")) == ["manifest.json", "model.joblib"]
    assert (store.root / "CURRENT").read_text() == "v0001\n"
    assert store.current_version() == "v0001"
    assert store.manifest("v0001").version == "v0001"


def test_each_publish_gets_the_next_version_and_becomes_current(store, published):
    assert [published(seed=s) for s in range(3)] == ["v0001", "v0002", "v0003"]

    assert store.versions() == ["v0001", "v0002", "v0003"]
    assert store.current_version() == "v0003"


def test_versions_sort_by_number_not_by_name(tmp_path):
    store = ModelStore(tmp_path)
    for name in ("v0002", "v10000", "v0010", "notes", "v12"):
        (tmp_path / name).mkdir()

    assert store.versions() == ["v0002", "v0010", "v10000"]


def test_version_numbers_are_not_reused_after_a_version_is_deleted(store, published):
    published(seed=0)
    published(seed=1)
    shutil.rmtree(store.root / "v0002")

    assert published(seed=2) == "v0003"


def test_read_artifact_returns_the_published_bytes(store, model_file):
    path = model_file("binary")
    publish_sklearn(store, path, NUMERIC)

    assert store.read_artifact("v0001") == path.read_bytes()


def test_publishing_a_stored_artefact_again_is_refused_naming_its_version(store, published):
    published(seed=0)
    published(seed=1)

    with pytest.raises(DuplicateModelError) as refused:
        published(seed=0)

    sha256 = store.manifest("v0001").sha256
    assert f"(sha256 {sha256[:12]}) is already stored as v0001;" in str(refused.value)
    assert store.versions() == ["v0001", "v0002"]
    assert store.current_version() == "v0002"


def test_forced_publish_of_a_stored_artefact_makes_a_new_version(store, model_file):
    path = model_file("binary")
    publish_sklearn(store, path, NUMERIC)

    manifest = publish_sklearn(store, path, NUMERIC, force=True)

    assert manifest.version == "v0002"
    assert manifest.sha256 == store.manifest("v0001").sha256


def test_empty_store_has_no_current_and_no_versions(store):
    assert store.current_version() is None
    assert store.versions() == []


def test_current_with_garbage_raises_store_error(store, published):
    published()
    (store.root / "CURRENT").write_text("../../etc/passwd\n")

    with pytest.raises(ModelStoreError, match="not a version like 'v0001'"):
        store.current_version()


def test_missing_manifest_raises_store_error(store, published):
    published()
    (store.root / "v0001" / "manifest.json").unlink()

    with pytest.raises(ModelStoreError, match="cannot read manifest of v0001"):
        store.manifest("v0001")


def test_unparseable_manifest_raises_store_error(store, published):
    published()
    (store.root / "v0001" / "manifest.json").write_text('{"version": "v0001"}')

    with pytest.raises(ModelStoreError, match="manifest of v0001 is not valid"):
        store.manifest("v0001")


def test_set_current_to_an_unknown_version_raises(store, published):
    published()

    with pytest.raises(ModelStoreError, match="no version 'v0007'"):
        store.set_current("v0007")
    assert store.current_version() == "v0001"


def test_failed_current_replace_keeps_the_old_pointer_and_no_temp_file(
    store, published, monkeypatch
):
    published(seed=0)
    published(seed=1)

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="No space left"):
        store.set_current("v0001")

    assert store.current_version() == "v0002"
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".CURRENT")] == []


def test_failed_version_write_leaves_no_visible_or_staged_version(store, model_file, monkeypatch):
    path = model_file("binary")

    def fail(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "rename", fail)
    with pytest.raises(ModelStoreError, match="cannot write a new version"):
        publish_sklearn(store, path, NUMERIC)

    assert store.versions() == []
    assert store.current_version() is None
    assert [p.name for p in store.root.iterdir() if p.name.startswith(".staging")] == []


def _publish_three(root: str, model_path: str) -> list[str]:
    return [
        publish_sklearn(ModelStore(root), model_path, NUMERIC, force=True).version for _ in range(3)
    ]


def test_concurrent_publishers_get_distinct_versions(store, model_file):
    path = str(model_file("binary"))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.starmap(_publish_three, [(str(store.root), path)] * 2)

    published = sorted(results[0] + results[1])
    assert published == [f"v{n:04d}" for n in range(1, 7)]
    assert store.versions() == published


def test_rollback_moves_current_to_the_previous_version(store, published):
    for seed in range(3):
        published(seed=seed)

    assert store.rollback() == "v0002"
    assert store.current_version() == "v0002"


def test_rollback_skips_versions_whose_artefact_changed(store, published):
    for seed in range(3):
        published(seed=seed)
    artefact: Path = store.root / "v0002" / "model.joblib"
    artefact.write_bytes(artefact.read_bytes() + b"\0")

    assert store.rollback() == "v0001"


def test_rollback_without_an_older_valid_version_raises(store, published):
    published()

    with pytest.raises(ModelStoreError, match="no valid version before v0001"):
        store.rollback()
    assert store.current_version() == "v0001"


def test_rollback_of_an_empty_store_raises(store):
    with pytest.raises(ModelStoreError, match="CURRENT is not set"):
        store.rollback()


def test_publish_without_advance_leaves_current_alone(store, published, model_file):
    published(seed=0)

    manifest = publish_sklearn(store, model_file("binary", seed=1), NUMERIC, advance=False)

    assert (manifest.version, store.versions()) == ("v0002", ["v0001", "v0002"])
    assert store.current_version() == "v0001"


def test_advance_current_never_moves_current_back(store, model_file):
    older = publish_sklearn(store, model_file("binary", seed=0), NUMERIC, advance=False).version
    newer = publish_sklearn(store, model_file("binary", seed=1), NUMERIC, advance=False).version

    assert store.advance_current(newer) == "v0002"
    assert store.advance_current(older) == "v0002"  # the older publish finished last
    assert store.current_version() == "v0002"


def test_set_current_moves_current_to_an_older_version(store, published):
    published(seed=0)
    published(seed=1)

    store.set_current("v0001")

    assert store.current_version() == "v0001"


def test_advance_current_waits_for_the_store_lock(store, published, model_file):
    published(seed=0)
    newer = publish_sklearn(store, model_file("binary", seed=1), NUMERIC, advance=False).version
    flip = threading.Thread(target=store.advance_current, args=(newer,))

    with store.storage.locked():
        flip.start()
        flip.join(timeout=0.5)
        assert flip.is_alive()
        assert store.current_version() == "v0001"
    flip.join(timeout=10)

    assert not flip.is_alive()
    assert store.current_version() == "v0002"


def _advance_when_told(root: str, version: str, go, reports) -> None:
    go.wait(timeout=30)
    reports.put((version, ModelStore(root).advance_current(version)))


def test_racing_publishes_leave_the_newest_version_current(store, model_file):
    path = model_file("binary")
    versions = [
        publish_sklearn(store, path, NUMERIC, advance=False, force=True).version for _ in range(6)
    ]
    context = multiprocessing.get_context("fork")
    go, reports = context.Event(), context.Queue()
    racers = [
        context.Process(target=_advance_when_told, args=(str(store.root), v, go, reports))
        for v in reversed(versions)  # older versions start last, so tend to flip last
    ]
    for racer in racers:
        racer.start()
    go.set()
    reported = dict(reports.get(timeout=30) for _ in racers)
    for racer in racers:
        racer.join(timeout=10)

    assert store.current_version() == "v0006"
    assert reported["v0006"] == "v0006"
    assert all(
        current in (version, "v0006") or current > version for version, current in reported.items()
    )


def test_publish_overtaken_by_a_newer_version_warns_and_leaves_current(
    store, model_file, monkeypatch, caplog
):
    write_version = store._write_version

    def overtaken(*args):
        manifest = write_version(*args)
        publish_sklearn(ModelStore(store.root), model_file("binary", seed=1), NUMERIC)  # meanwhile
        return manifest

    monkeypatch.setattr(store, "_write_version", overtaken)

    assert publish_sklearn(store, model_file("binary"), NUMERIC).version == "v0001"
    assert store.current_version() == "v0002"
    assert [r.getMessage() for r in caplog.records] == [
        "v0001 stored but not CURRENT: v0002 is newer"
    ]
