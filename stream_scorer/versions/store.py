"""A model store: immutable versions and a CURRENT pointer that moves atomically.

Storage only: it knows no model kind. `versions.publish` has a flavour describe a model
file, then `ModelStore.add` stores the bytes and the manifest. Where the bytes live is a
`storage.base.Storage`: a local directory (`storage.local`) or an object store
(`storage.objects`, e.g. `s3://bucket/models`); the guarantees below hold on both.

Layout (under a directory or a key prefix)::

    CURRENT               the serving version name, e.g. 'v0002'
    v0001/model.joblib    the artefact (or model.pkl, model.skops, model.onnx, family.bin)
    v0001/manifest.json   see `Manifest`
    v0001/baseline.json   its baseline, if published with one (`monitoring.baseline`); its
                          sha256 in the manifest's `extra["baseline"]`
    .reserved/v0001       version numbers ever handed out (never reused)
"""

import dataclasses
import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from stream_scorer.contract.manifest import MANIFEST_FILE, Manifest
from stream_scorer.errors import DuplicateModelError, ModelRejectedError, ModelStoreError
from stream_scorer.versions.signing import signed
from stream_scorer.versions.storage.base import CURRENT_FILE, Storage
from stream_scorer.versions.storage.factory import open_storage
from stream_scorer.versions.storage.local import LocalStorage

log = logging.getLogger(__name__)

BASELINE_FILE = "baseline.json"
BASELINE_KEY = "baseline"
"""The manifest's `extra` key holding `{"file": BASELINE_FILE, "sha256": ...}`."""
_T = TypeVar("_T")
_VERSION = re.compile(r"^v(\d{4,})$")


class ModelStore:
    """Versions `v0001/`, `v0002/`... under `root` (a directory or a URL), and `CURRENT`.

    A version appears complete or not at all and is never rewritten; `CURRENT` changes by one
    atomic read-modify-write of the storage (`Storage.update_current`), so a reader sees the
    old or the new version, never a torn one. Concurrent publishers get distinct version
    numbers, and a publish only moves CURRENT forward. `options` are the object store's
    (fsspec) storage options, e.g. `model.store_options`.
    """

    def __init__(self, root: str | Path, options: Mapping[str, Any] | None = None) -> None:
        self.storage: Storage = open_storage(str(root), options)
        self.location = self.storage.location

    def __repr__(self) -> str:
        return f"ModelStore({self.location!r})"

    @property
    def root(self) -> Path:
        """The directory of a local store (tools and tests that edit its files)."""
        if not isinstance(self.storage, LocalStorage):
            msg = f"{self.location}: not a local directory"
            raise ModelStoreError(msg)
        return self.storage.root

    def exists(self) -> bool:
        """True if the store's directory (or prefix) exists; ModelStoreError if unreachable."""
        try:
            return self.storage.exists()
        except OSError as exc:
            msg = f"{self.location}: cannot read the model store: {exc.strerror or exc}"
            raise ModelStoreError(msg) from exc

    def current_version(self) -> str | None:
        """The version CURRENT names, or None when nothing was published yet."""
        where = self._where(CURRENT_FILE)
        try:
            text = self.storage.read(CURRENT_FILE).decode(errors="replace").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"{where}: cannot read: {exc.strerror or exc}"
            raise ModelStoreError(msg) from exc
        if not _VERSION.match(text):
            msg = f"{where}: holds {text[:40]!r}, not a version like 'v0001'"
            raise ModelStoreError(msg)
        return text

    def versions(self) -> list[str]:
        """Version names, oldest first."""
        try:
            found = self.storage.versions()
        except OSError as exc:
            msg = f"{self.location}: cannot list versions: {exc.strerror or exc}"
            raise ModelStoreError(msg) from exc
        return sorted(found, key=_number)

    def manifest(self, version: str) -> Manifest:
        """Read the manifest of `version`; ModelStoreError if missing or unparseable."""
        if not _VERSION.match(version):
            msg = f"{self.location}: {version!r} is not a version name like 'v0001'"
            raise ModelStoreError(msg)
        name = f"{version}/{MANIFEST_FILE}"
        try:
            return Manifest.from_json(self.storage.read(name).decode())
        except OSError as exc:
            msg = f"{self._where(name)}: cannot read manifest of {version}: {exc.strerror or exc}"
            raise ModelStoreError(msg) from exc
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"{self._where(name)}: manifest of {version} is not valid: {exc!r}"
            raise ModelStoreError(msg) from exc

    def artifact_url(self, version: str) -> str:
        """Where another machine reads the artefact of `version`: an absolute path or a URL."""
        return self.storage.url(f"{version}/{self.manifest(version).file}")

    def artifact_size(self, version: str) -> int:
        """The artefact's size in bytes; ModelStoreError if it cannot be told."""
        name = f"{version}/{self.manifest(version).file}"
        return self._access(self.storage.size, name, f"artefact of {version}")

    def read_artifact(self, version: str) -> bytes:
        """The artefact bytes of `version`, as named by its manifest."""
        name = f"{version}/{self.manifest(version).file}"
        return self._access(self.storage.read, name, f"artefact of {version}")

    def set_current(self, version: str) -> None:
        """Point CURRENT at an existing `version`, older or newer, atomically and durably."""

        def point(current: str | None) -> str:
            self._require(version)
            return version

        self.storage.update_current(point)

    def advance_current(self, version: str) -> str:
        """Point CURRENT at `version` unless it names a newer one; return what it names then.

        The compare and the flip are one atomic step of the storage, so of racing publishes
        the newest version ends up CURRENT whatever order they finish in.
        """

        def forward(current: str | None) -> str | None:
            if current and _VERSION.match(current) and _number(current) >= _number(version):
                return None
            self._require(version)  # garbage in CURRENT: a publish replaces it
            return version

        return self.storage.update_current(forward) or version

    def rollback(self) -> str:
        """Point CURRENT at the newest valid version older than the current one; return it.

        Valid means: the manifest parses and the artefact's sha256 matches it.
        """

        def back(current: str | None) -> str:
            if current is None:
                msg = f"{self.location}: nothing to roll back, CURRENT is not set"
                raise ModelStoreError(msg)
            if not _VERSION.match(current):
                self.current_version()  # raises, naming what CURRENT holds
            older = [v for v in self.versions() if _number(v) < _number(current)]
            for version in reversed(older):
                if self.is_valid(version):
                    return version
            msg = f"{self.location}: no valid version before {current} to roll back to"
            raise ModelStoreError(msg)

        result = self.storage.update_current(back)
        assert result is not None  # `back` always names a version or raises
        return result

    def is_valid(self, version: str) -> bool:
        """True if `version`'s manifest parses and its artefact (and baseline, if it has one)
        match their sha256."""
        try:
            expected = self.manifest(version).sha256
            if hashlib.sha256(self.read_artifact(version)).hexdigest() != expected:
                return False
            self.baseline(version)
        except (ModelStoreError, ModelRejectedError):
            return False
        return True

    def baseline(self, version: str) -> bytes | None:
        """The `baseline.json` bytes of `version`, checked against the sha256 its manifest
        records; None when it was published without one.

        Raises
        ------
        ModelStoreError
            If the manifest or the file cannot be read.
        ModelRejectedError
            If the file's sha256 differs from the manifest's.
        """
        recorded = self.manifest(version).extra.get(BASELINE_KEY)
        if not recorded:
            return None
        name = f"{version}/{recorded['file']}"
        data = self._access(self.storage.read, name, f"the baseline of {version}")
        actual = hashlib.sha256(data).hexdigest()
        if actual != recorded["sha256"]:
            msg = (
                f"{self._where(name)}: sha256 mismatch (manifest {recorded['sha256'][:12]}…, "
                f"file {actual[:12]}…); the baseline of {version} changed after publish"
            )
            raise ModelRejectedError(msg)
        return data

    def add(
        self,
        described: Manifest,
        payload: bytes,
        advance: bool = True,
        force: bool = False,
        baseline: bytes | None = None,
    ) -> Manifest:
        """Store `payload` as a new version described by `described` (version left empty)
        and `advance_current` to it (unless `advance` is False); return its manifest.
        A `baseline` is stored beside it as `BASELINE_FILE`, its sha256 in the manifest.

        Raises
        ------
        ModelStoreError
            If the version cannot be written.
        DuplicateModelError
            If a version with the same sha256 exists and `force` is False.
        """
        if not force:
            self.refuse_duplicate(payload)
        try:
            manifest = self._write_version(described, payload, baseline)
        except OSError as exc:
            msg = f"{self.location}: cannot write a new version: {exc}"
            raise ModelStoreError(msg) from exc
        if advance and (current := self.advance_current(manifest.version)) != manifest.version:
            log.warning("%s stored but not CURRENT: %s is newer", manifest.version, current)
        return manifest

    def version_with_sha256(self, sha256: str) -> str | None:
        """The oldest version whose manifest records `sha256`, or None (unreadable ones skipped)."""
        for version in self.versions():
            try:
                if self.manifest(version).sha256 == sha256:
                    return version
            except ModelStoreError:
                continue
        return None

    def refuse_duplicate(self, payload: bytes) -> None:
        """Raise DuplicateModelError if a version already holds the artefact `payload`."""
        sha256 = hashlib.sha256(payload).hexdigest()
        existing = self.version_with_sha256(sha256)
        if existing is not None:
            msg = (
                f"{self.location}: this artefact (sha256 {sha256[:12]}) is already stored as "
                f"{existing}; `stream-scorer model promote {existing}` serves it, --force "
                "stores it again as a new version"
            )
            raise DuplicateModelError(msg)

    def _write_version(
        self, described: Manifest, payload: bytes, baseline: bytes | None = None
    ) -> Manifest:
        if baseline is not None:
            recorded = {"file": BASELINE_FILE, "sha256": hashlib.sha256(baseline).hexdigest()}
            described = dataclasses.replace(
                described, extra={**described.extra, BASELINE_KEY: recorded}
            )
        manifest = signed(dataclasses.replace(described, version=self._reserve()))
        files = {manifest.file: payload}
        if baseline is not None:
            files[BASELINE_FILE] = baseline
        files[MANIFEST_FILE] = manifest.to_json().encode()  # last: it makes the version whole
        self.storage.write_version(manifest.version, files)
        return manifest

    def _reserve(self) -> str:
        """Claim the next version number by creating its marker once."""
        taken = self.storage.reserved() + self.storage.versions()
        number = max((_number(v) for v in taken if _VERSION.match(v)), default=0) + 1
        while not self.storage.reserve(f"v{number:04d}"):
            number += 1
        return f"v{number:04d}"

    def _require(self, version: str) -> None:
        versions = self.versions()
        if version not in versions:
            msg = f"{self.location}: no version {version!r}; have {versions}"
            raise ModelStoreError(msg)

    def _access(self, access: Callable[[str], _T], name: str, what: str) -> _T:
        """`access(name)` on the storage; an OSError becomes a ModelStoreError naming `what`."""
        try:
            return access(name)
        except OSError as exc:
            msg = f"{self._where(name)}: cannot read {what}: {exc.strerror or exc}"
            raise ModelStoreError(msg) from exc

    def _where(self, name: str) -> str:
        return f"{self.location.rstrip('/')}/{name}"


def read_model_file(path: str | Path) -> bytes:
    """The bytes of a model file to publish; ModelStoreError if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read model file: {exc.strerror}"
        raise ModelStoreError(msg) from exc


def _number(version: str) -> int:
    return int(version[1:])
