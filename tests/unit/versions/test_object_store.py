"""ModelStore on object storage: S3 through moto's server on loopback (the `s3` fixture).

The same guarantees as on disk: versions complete and never overwritten, the sha256 checked,
CURRENT compare-and-swapped (If-Match on its ETag) so it only moves forward on publish.
"""

import hashlib
import multiprocessing
import sys

import pytest

from stream_scorer.errors import ModelStoreError
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.storage.objects import ObjectStorage
from stream_scorer.versions.store import ModelStore
from tests.scorer_helpers import NUMERIC


@pytest.fixture
def s3_store(s3) -> ModelStore:
    return s3.new_store()


def test_publish_writes_artefact_manifest_and_current_as_objects(s3, s3_store, model_file):
    path = model_file("binary")

    assert publish_sklearn(s3_store, path, NUMERIC).version == "v0001"

    assert s3.keys(s3_store) == [
        ".reserved/v0001",
        "CURRENT",
        "v0001/manifest.json",
        "v0001/model.joblib",
    ]
    assert s3_store.current_version() == "v0001"
    assert s3_store.versions() == ["v0001"]
    assert s3_store.read_artifact("v0001") == path.read_bytes()
    assert s3_store.manifest("v0001").sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_publish_gets_the_next_version_and_becomes_current(s3_store, model_file):
    versions = [publish_sklearn(s3_store, model_file(seed=s), NUMERIC).version for s in range(3)]

    assert versions == ["v0001", "v0002", "v0003"]
    assert s3_store.current_version() == "v0003"


def test_a_stored_version_is_never_overwritten(s3, s3_store, model_file):
    publish_sklearn(s3_store, model_file(), NUMERIC)
    bucket, _, prefix = s3_store.location.removeprefix("s3://").partition("/")
    before = s3.client().get_object(Bucket=bucket, Key=f"{prefix}/v0001/model.joblib")["ETag"]

    with pytest.raises(OSError, match="exists already; versions are never overwritten"):
        s3_store.storage.write_version("v0001", {"model.joblib": b"other bytes"})

    after = s3.client().get_object(Bucket=bucket, Key=f"{prefix}/v0001/model.joblib")["ETag"]
    assert after == before
    assert s3_store.is_valid("v0001")


def test_a_version_without_its_manifest_is_not_listed_and_its_number_not_reused(
    s3, s3_store, model_file
):
    publish_sklearn(s3_store, model_file(), NUMERIC)
    assert s3_store.storage.reserve("v0002")  # a publish that died after its artefact
    s3_store.storage.write_version("v0002", {"model.joblib": b"half a publish"})

    assert s3_store.versions() == ["v0001"]
    assert publish_sklearn(s3_store, model_file(seed=1), NUMERIC).version == "v0003"


def test_rollback_skips_a_version_whose_artefact_changed(s3, s3_store, model_file):
    for seed in range(3):
        publish_sklearn(s3_store, model_file(seed=seed), NUMERIC)
    bucket, _, prefix = s3_store.location.removeprefix("s3://").partition("/")
    s3.client().put_object(Bucket=bucket, Key=f"{prefix}/v0002/model.joblib", Body=b"tampered")

    assert not s3_store.is_valid("v0002")
    assert s3_store.rollback() == "v0001"
    assert s3_store.current_version() == "v0001"


def test_set_current_moves_current_to_an_older_version_and_refuses_an_unknown_one(
    s3_store, model_file
):
    publish_sklearn(s3_store, model_file(seed=0), NUMERIC)
    publish_sklearn(s3_store, model_file(seed=1), NUMERIC)

    s3_store.set_current("v0001")
    with pytest.raises(ModelStoreError, match="no version 'v0007'"):
        s3_store.set_current("v0007")

    assert s3_store.current_version() == "v0001"


def test_advance_overtaken_between_read_and_swap_reads_again_and_stays_forward(
    s3, s3_store, model_file
):
    for seed in range(3):
        publish_sklearn(s3_store, model_file(seed=seed), NUMERIC, advance=False)
    s3_store.set_current("v0001")
    other = ModelStore(s3_store.location, s3.options)
    seen: list[str | None] = []
    update = s3_store.storage.update_current

    def overtaken(decide):
        def racing(current):
            seen.append(current)
            if len(seen) == 1:  # another publisher swaps CURRENT after this one read it
                assert other.advance_current("v0003") == "v0003"
            return decide(current)

        return update(racing)

    s3_store.storage.update_current = overtaken  # type: ignore[method-assign]

    assert s3_store.advance_current("v0002") == "v0003"
    assert seen == ["v0001", "v0003"]  # its If-Match swap failed: read again, decided again
    assert s3_store.current_version() == "v0003"


def test_current_created_by_a_racing_first_publish_is_swapped_not_overwritten(
    s3, s3_store, model_file
):
    for seed in range(2):
        publish_sklearn(s3_store, model_file(seed=seed), NUMERIC, advance=False)
    other = ModelStore(s3_store.location, s3.options)
    seen: list[str | None] = []
    update = s3_store.storage.update_current

    def overtaken(decide):
        def racing(current):
            seen.append(current)
            if len(seen) == 1:  # both saw no CURRENT; the other creates it first
                other.set_current("v0002")
            return decide(current)

        return update(racing)

    s3_store.storage.update_current = overtaken  # type: ignore[method-assign]

    assert s3_store.advance_current("v0001") == "v0002"
    assert seen == [None, "v0002"]  # its If-None-Match create failed
    assert s3_store.current_version() == "v0002"


def _publish_when_told(location, options, model_path, go, reports) -> None:
    go.wait(timeout=30)
    store = ModelStore(location, options)
    version = publish_sklearn(store, model_path, NUMERIC, advance=False, force=True).version
    reports.put((version, store.advance_current(version)))


def test_racing_publishes_leave_the_newest_version_current_and_every_version_intact(
    s3, s3_store, model_file
):
    path = str(model_file("binary"))
    context = multiprocessing.get_context("fork")
    go, reports = context.Event(), context.Queue()
    args = (s3_store.location, s3.options, path, go, reports)
    racers = [context.Process(target=_publish_when_told, args=args) for _ in range(6)]
    for racer in racers:
        racer.start()
    go.set()
    reported = dict(reports.get(timeout=120) for _ in racers)
    for racer in racers:
        racer.join(timeout=30)

    assert sorted(reported) == [f"v{n:04d}" for n in range(1, 7)]
    assert s3_store.versions() == sorted(reported)
    assert all(s3_store.is_valid(v) for v in reported)
    assert s3_store.current_version() == "v0006"
    assert all(current >= version for version, current in reported.items())


def test_credentials_and_endpoint_come_from_the_environment(s3, model_file, monkeypatch):
    for name, value in s3.env.items():
        monkeypatch.setenv(name, value)
    store = ModelStore(f"s3://{s3.new_bucket()}/models")

    assert publish_sklearn(store, model_file(), NUMERIC).version == "v0001"
    assert store.current_version() == "v0001"


def test_a_missing_s3fs_is_named_with_the_extra(monkeypatch):
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, "s3", raising=False)
    monkeypatch.setitem(sys.modules, "s3fs", None)

    with pytest.raises(ModelStoreError) as err:
        ModelStore("s3://bucket/models")

    assert "needs s3fs (the s3 extra: pip install 'stream-scorer[s3]')" in str(err.value)


def test_a_store_without_conditional_writes_serves_but_refuses_to_publish(tmp_path, model_file):
    store = ModelStore(f"memory://{tmp_path.name}/models")

    assert isinstance(store.storage, ObjectStorage)
    assert store.versions() == []
    assert store.current_version() is None
    with pytest.raises(ModelStoreError, match="writing a model store on memory:// is not supp"):
        publish_sklearn(store, model_file(), NUMERIC)
