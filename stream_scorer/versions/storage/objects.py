"""A model store on object storage (s3://, gs://, abfs://, hdfs://) through fsspec.

Layout as on a local disk (`local`), as keys under the store's prefix. Object stores have no
rename and no lock, so every write that must not be lost or overtaken is a conditional write
(`ConditionalWrites`):

- a version's files and its `.reserved/vNNNN` marker are created once (the write fails if the
  key exists), the manifest last: a version is listed only once its manifest exists, and no
  publish can overwrite another's files;
- CURRENT is compare-and-swapped: read with its token (S3's and Azure's ETag, GCS's
  generation), decided, then written only if it still has that token; a lost race reads again
  and decides again, so of racing publishes the newest version ends up CURRENT and a publish
  never moves it back.

Reads (the scorer's poll of CURRENT, manifests, artefacts, listings) go through fsspec for
every scheme. The conditional writes need the backend's own API: implemented for S3 and
S3-compatible servers (`s3.S3Writes`), Google Cloud Storage (`gcs.GCSWrites`) and Azure Blob
Storage (`azure.AzureWrites`); a store on another scheme (`hdfs://`: no create-exclusive or
compare-and-swap through pyarrow's binding) serves, and refuses writes.
"""

import functools
import random
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar
from urllib.parse import urlparse

from stream_scorer.contract.manifest import MANIFEST_FILE
from stream_scorer.errors import ModelStoreError, ScorerError
from stream_scorer.versions.storage.base import CURRENT_FILE, RESERVED_DIR, Decide

MAX_ATTEMPTS = 50
"""Tries of a compare-and-swap of CURRENT before giving up (each lost to another writer)."""
_VERSION = re.compile(r"^v(\d{4,})$")
_EXTRAS = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "abfs": ("adlfs", "azure")}
_EXTRAS.update(gcs=_EXTRAS["gs"], abfss=_EXTRAS["abfs"], az=_EXTRAS["abfs"])
"""The fsspec implementation of each scheme, and our extra that installs it."""
_NO_WRITES = {"hdfs": " (pyarrow's HDFS client has no create-if-absent; its move replaces)"}
_FRESH = {"use_listings_cache": False}
"""Every listing and existence check asks the store: another process may have written since."""
_T = TypeVar("_T")


def _os_errors(method: Callable[..., _T]) -> Callable[..., _T]:
    """Make an SDK's own errors (botocore's NoCredentialsError, a connection refused) OSErrors,
    which `ModelStore` reports naming the store; our own errors pass as they are."""

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> _T:
        try:
            return method(*args, **kwargs)
        except (OSError, ScorerError):
            raise
        except Exception as exc:
            raise OSError(f"{type(exc).__name__}: {exc}") from exc

    return call


class ConditionalWrites(Protocol):
    """The conditional writes of one object store API, on fsspec paths ('bucket/key')."""

    def get(self, path: str) -> tuple[bytes, str] | None:
        """The object's bytes and its token (what `swap` compares), or None if missing."""

    def create(self, path: str, data: bytes) -> bool:
        """Write the object only if it does not exist; False if it does."""

    def swap(self, path: str, data: bytes, token: str) -> bool:
        """Replace the object only if its token is still `token`; False if it changed."""


class ObjectStorage:
    """A store under an object-store URL; `options` are fsspec storage options (credentials,
    `endpoint_url`...); left empty, each SDK reads its environment (`AWS_ENDPOINT_URL`,
    `AWS_ACCESS_KEY_ID`, `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_STORAGE_CONNECTION_STRING`...)."""

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        self.location = url
        self.options: Mapping[str, Any] = dict(options or {})
        self._url = url.rstrip("/").replace("s3a://", "s3://", 1)
        self._fs, self._root = _filesystem(self._url, {**_FRESH, **self.options})
        self._root = self._root.rstrip("/")
        self._writes = _conditional_writes(self._fs)

    @_os_errors
    def exists(self) -> bool:
        self._fs.invalidate_cache(self._root)
        return bool(self._fs.exists(self._root))

    @_os_errors
    def versions(self) -> list[str]:
        found = set()
        for name in self._find(""):
            version, _, file = name.partition("/")
            if file == MANIFEST_FILE and _VERSION.match(version):
                found.add(version)
        return list(found)

    @_os_errors
    def read(self, name: str) -> bytes:
        data: bytes = self._fs.cat_file(self._path(name))
        return data

    @_os_errors
    def size(self, name: str) -> int:
        self._fs.invalidate_cache(self._path(name))
        return int(self._fs.size(self._path(name)))

    def url(self, name: str) -> str:
        return f"{self._url}/{name}"

    @_os_errors
    def reserved(self) -> list[str]:
        return [name.partition("/")[2] for name in self._find(RESERVED_DIR)]

    @_os_errors
    def reserve(self, version: str) -> bool:
        writes = self._writable()
        return writes.create(self._path(f"{RESERVED_DIR}/{version}"), b"") and not self._fs.exists(
            self._path(f"{version}/{MANIFEST_FILE}")
        )

    @_os_errors
    def write_version(self, version: str, files: Mapping[str, bytes]) -> None:
        writes = self._writable()
        for name, data in files.items():  # the manifest last: it makes the version visible
            if not writes.create(self._path(f"{version}/{name}"), data):
                msg = f"{self.url(version)}/{name} exists already; versions are never overwritten"
                raise OSError(msg)

    def update_current(self, decide: Decide) -> str | None:
        try:
            return self._update_current(decide)
        except ScorerError:
            raise
        except Exception as exc:  # OSError, or the SDK's own
            msg = f"{self.url(CURRENT_FILE)}: cannot update: {exc}"
            raise ModelStoreError(msg) from exc

    def _update_current(self, decide: Decide) -> str | None:
        writes = self._writable()
        path = self._path(CURRENT_FILE)
        for attempt in range(MAX_ATTEMPTS):
            got = writes.get(path)
            current = got[0].decode(errors="replace").strip() if got else None
            new = decide(current)
            if new is None:
                return current
            data = (new + "\n").encode()
            if writes.create(path, data) if got is None else writes.swap(path, data, got[1]):
                return new
            time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # lost a race: back off
        msg = f"{self.url(CURRENT_FILE)}: changed by others {MAX_ATTEMPTS} times in a row; retry"
        raise ModelStoreError(msg)

    def _path(self, name: str) -> str:
        return f"{self._root}/{name}"

    def _find(self, folder: str) -> list[str]:
        """Names (relative to the root) of every object under `folder`, listed afresh."""
        base = f"{self._root}/{folder}".rstrip("/")
        self._fs.invalidate_cache(base)
        prefix = self._root + "/"
        return [p[len(prefix) :] for p in self._fs.find(base) if p.startswith(prefix)]

    def _writable(self) -> ConditionalWrites:
        if self._writes is None:
            scheme = urlparse(self._url).scheme
            why = _NO_WRITES.get(scheme, "")
            msg = (
                f"{self.location}: writing a model store on {scheme}:// is not supported: "
                f"CURRENT needs conditional writes{why}, implemented for s3:// (S3 and "
                "S3-compatible servers), gs:// and abfs://; a scorer serves from this store, "
                "publish to it with your own tools"
            )
            raise ModelStoreError(msg)
        return self._writes


def _filesystem(url: str, options: Mapping[str, Any]) -> tuple[Any, str]:
    """fsspec's filesystem for `url` and the store's root path in it."""
    scheme = urlparse(url).scheme
    try:
        import fsspec

        return fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        msg = f"{url}: a model store on {scheme}:// needs {missing_package(scheme)}: {exc}"
        raise ModelStoreError(msg) from exc
    except (ValueError, TypeError) as exc:  # an unknown scheme, a bad option
        msg = f"{url}: cannot open the model store: {exc}"
        raise ModelStoreError(msg) from exc


def missing_package(scheme: str) -> str:
    """What to install for `scheme`: its fsspec implementation and our extra with it."""
    if scheme not in _EXTRAS:
        return f"fsspec's {scheme} implementation"
    package, extra = _EXTRAS[scheme]
    return f"{package} (the {extra} extra: pip install 'stream-scorer[{extra}]')"


def _conditional_writes(fs: Any) -> ConditionalWrites | None:
    protocols = set(fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))
    if "s3" in protocols:
        from stream_scorer.versions.storage.s3 import S3Writes

        return S3Writes(fs)
    if "gs" in protocols:
        from stream_scorer.versions.storage.gcs import GCSWrites

        return GCSWrites(fs)
    if "abfs" in protocols:
        from stream_scorer.versions.storage.azure import AzureWrites

        return AzureWrites(fs)
    return None
