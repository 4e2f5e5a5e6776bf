"""ModelStore on object storage, against a real server of each API on loopback (the
`object_server` fixture: S3 on moto, GCS on fake-gcs-server, Azure Blob on Azurite).

The same guarantees as on disk: versions complete and never overwritten, the sha256 checked,
CURRENT compare-and-swapped (S3's and Azure's If-Match on the ETag, GCS's ifGenerationMatch on
the generation) so it only moves forward on publish.
"""

import hashlib
import multiprocessing
import sys
import traceback

import pytest

from stream_scorer.distribution.cache import ArtefactCache
from stream_scorer.errors import ModelStoreError
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.storage.objects import ObjectStorage
from stream_scorer.versions.store import ModelStore
from tests.gcs_helpers import service_account_file, token_endpoint
from tests.scorer_helpers import NUMERIC

JWT_BEARER = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"


@pytest.fixture
def object_store(object_server) -> ModelStore:
    return object_server.new_store()


def test_publish_writes_artefact_manifest_and_current_as_objects(
    object_server, object_store, model_file
):
    path = model_file("binary")

    assert publish_sklearn(object_store, path, NUMERIC).version == "v0001"

    assert object_server.keys(object_store) == [
        ".reserved/v0001",
        "CURRENT",
        "v0001/manifest.json",
        "v0001/model.joblib",
    ]
    assert object_store.current_version() == "v0001"
    assert object_store.versions() == ["v0001"]
    assert object_store.read_artifact("v0001") == path.read_bytes()
    assert object_store.manifest("v0001").sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_each_publish_gets_the_next_version_and_becomes_current(object_store, model_file):
    store = object_store
    versions = [publish_sklearn(store, model_file(seed=s), NUMERIC).version for s in range(3)]

    assert versions == ["v0001", "v0002", "v0003"]
    assert store.current_version() == "v0003"


def test_a_stored_version_is_never_overwritten(object_server, object_store, model_file):
    publish_sklearn(object_store, model_file(), NUMERIC)
    before = object_server.token(object_store, "v0001/model.joblib")

    with pytest.raises(OSError, match="exists already; versions are never overwritten"):
        object_store.storage.write_version("v0001", {"model.joblib": b"other bytes"})

    assert object_server.token(object_store, "v0001/model.joblib") == before
    assert object_store.is_valid("v0001")


def test_a_gcs_version_file_past_gcsfs_resumable_size_is_created_once_too(gcs):
    # gcsfs uploads resumably from 50 MiB, and fake-gcs-server ignores ifGenerationMatch there:
    # GCSWrites sends every create as one multipart upload, whose condition both honour.
    store = gcs.new_store()
    store.storage.write_version("v0001", {"model.joblib": b"the first bytes"})

    with pytest.raises(OSError, match="exists already; versions are never overwritten"):
        store.storage.write_version("v0001", {"model.joblib": bytes(50 * 2**20 + 1)})

    assert store.storage.read("v0001/model.joblib") == b"the first bytes"


def test_a_version_without_its_manifest_is_not_listed_and_its_number_not_reused(
    object_store, model_file
):
    publish_sklearn(object_store, model_file(), NUMERIC)
    assert object_store.storage.reserve("v0002")  # a publish that died after its artefact
    object_store.storage.write_version("v0002", {"model.joblib": b"half a publish"})

    assert object_store.versions() == ["v0001"]
    assert publish_sklearn(object_store, model_file(seed=1), NUMERIC).version == "v0003"


def test_rollback_skips_a_version_whose_artefact_changed(object_server, object_store, model_file):
    for seed in range(3):
        publish_sklearn(object_store, model_file(seed=seed), NUMERIC)
    object_server.put(object_store, "v0002/model.joblib", b"tampered")

    assert not object_store.is_valid("v0002")
    assert object_store.rollback() == "v0001"
    assert object_store.current_version() == "v0001"


def test_set_current_moves_current_to_an_older_version_and_refuses_an_unknown_one(
    object_store, model_file
):
    publish_sklearn(object_store, model_file(seed=0), NUMERIC)
    publish_sklearn(object_store, model_file(seed=1), NUMERIC)

    object_store.set_current("v0001")
    with pytest.raises(ModelStoreError, match="no version 'v0007'"):
        object_store.set_current("v0007")

    assert object_store.current_version() == "v0001"


def test_advance_overtaken_between_read_and_swap_reads_again_and_stays_forward(
    object_server, object_store, model_file
):
    for seed in range(3):
        publish_sklearn(object_store, model_file(seed=seed), NUMERIC, advance=False)
    object_store.set_current("v0001")
    other = object_server.open(object_store.location)
    seen: list[str | None] = []
    update = object_store.storage.update_current

    def overtaken(decide):
        def racing(current):
            seen.append(current)
            if len(seen) == 1:  # another publisher swaps CURRENT after this one read it
                assert other.advance_current("v0003") == "v0003"
            return decide(current)

        return update(racing)

    object_store.storage.update_current = overtaken  # type: ignore[method-assign]

    assert object_store.advance_current("v0002") == "v0003"
    assert seen == ["v0001", "v0003"]  # its conditional swap failed: read again, decide again
    assert object_store.current_version() == "v0003"


def test_current_created_by_a_racing_first_publish_is_swapped_not_overwritten(
    object_server, object_store, model_file
):
    for seed in range(2):
        publish_sklearn(object_store, model_file(seed=seed), NUMERIC, advance=False)
    other = object_server.open(object_store.location)
    seen: list[str | None] = []
    update = object_store.storage.update_current

    def overtaken(decide):
        def racing(current):
            seen.append(current)
            if len(seen) == 1:  # both saw no CURRENT; the other creates it first
                other.set_current("v0002")
            return decide(current)

        return update(racing)

    object_store.storage.update_current = overtaken  # type: ignore[method-assign]

    assert object_store.advance_current("v0001") == "v0002"
    assert seen == [None, "v0002"]  # its create-once write failed
    assert object_store.current_version() == "v0002"


def _publish_when_told(location, options, model_path, go, reports) -> None:
    """A racer: publish, then advance CURRENT; report (version, CURRENT after) or the error."""
    try:
        go.wait(timeout=30)
        store = ModelStore(location, options)
        version = publish_sklearn(store, model_path, NUMERIC, advance=False, force=True).version
        reports.put((version, store.advance_current(version)))
    except BaseException:
        reports.put(("error", traceback.format_exc()))


def test_racing_publishes_leave_the_newest_version_current_and_every_version_intact(
    object_server, object_store, model_file
):
    path = str(model_file("binary"))
    context = multiprocessing.get_context("fork")
    go, reports = context.Event(), context.Queue()
    args = (object_store.location, object_server.options, path, go, reports)
    racers = [context.Process(target=_publish_when_told, args=args) for _ in range(6)]
    for racer in racers:
        racer.start()
    go.set()
    reported = dict(reports.get(timeout=120) for _ in racers)
    for racer in racers:
        racer.join(timeout=30)
    assert "error" not in reported, reported["error"]

    assert sorted(reported) == [f"v{n:04d}" for n in range(1, 7)]
    assert object_store.versions() == sorted(reported)
    assert all(object_store.is_valid(v) for v in reported)
    assert object_store.current_version() == "v0006"
    assert all(current >= version for version, current in reported.items())


@pytest.mark.parametrize("server", ["s3", "azure"])
def test_credentials_and_endpoint_come_from_the_environment(
    server, request, model_file, monkeypatch
):
    object_server = request.getfixturevalue(server)
    for name, value in object_server.env.items():
        monkeypatch.setenv(name, value)
    store = ModelStore(f"{object_server.scheme}://{object_server.new_bucket()}/models")

    assert publish_sklearn(store, model_file(), NUMERIC).version == "v0001"
    assert store.current_version() == "v0001"


def test_gcs_credentials_and_endpoint_come_from_the_environment(
    gcs, tmp_path, model_file, monkeypatch
):
    with token_endpoint() as (token_uri, asked):
        for name, value in gcs.env.items():
            monkeypatch.setenv(name, value)
        credentials = service_account_file(tmp_path / "adc.json", token_uri)
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(credentials))
        monkeypatch.setenv("NO_GCE_CHECK", "true")  # never ask a metadata server
        store = ModelStore(f"gs://{gcs.new_bucket()}/models")

        assert publish_sklearn(store, model_file(), NUMERIC).version == "v0001"
        assert store.current_version() == "v0001"

    assert [form["grant_type"] for form in asked] == [JWT_BEARER]  # the file's key asked once


@pytest.mark.parametrize(
    ("scheme", "package", "extra"),
    [("s3", "s3fs", "s3"), ("gs", "gcsfs", "gcs"), ("abfs", "adlfs", "azure")],
)
def test_a_missing_fsspec_implementation_is_named_with_the_extra(
    scheme, package, extra, monkeypatch
):
    monkeypatch.delitem(sys.modules["fsspec.registry"]._registry, scheme, raising=False)
    monkeypatch.setitem(sys.modules, package, None)

    with pytest.raises(ModelStoreError) as err:
        ModelStore(f"{scheme}://bucket/models")

    expected = f"needs {package} (the {extra} extra: pip install 'stream-scorer[{extra}]')"
    assert expected in str(err.value)


def test_a_store_without_conditional_writes_serves_but_refuses_to_publish(tmp_path, model_file):
    store = ModelStore(f"memory://{tmp_path.name}/models")

    assert isinstance(store.storage, ObjectStorage)
    assert store.versions() == []
    assert store.current_version() is None
    with pytest.raises(ModelStoreError, match="writing a model store on memory:// is not supp"):
        publish_sklearn(store, model_file(), NUMERIC)


def test_an_executor_copies_a_version_from_the_store_into_its_machines_cache(
    object_store, model_file, tmp_path
):
    version = publish_sklearn(object_store, model_file(), NUMERIC).version
    sha256 = object_store.manifest(version).sha256
    cache = ArtefactCache(str(tmp_path / "cache"))

    url = object_store.artifact_url(version)
    copy = cache.materialise(url, sha256, ".joblib", object_store.storage.options)

    assert url.startswith(object_store.location)  # read from the store, no shared mount
    assert copy.read_bytes() == object_store.read_artifact(version)
