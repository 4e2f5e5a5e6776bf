"""A model store: a directory of immutable versions and an atomically replaced CURRENT.

Storage only: it knows no model kind. `versions.publish` has a flavour describe a model
file, then `ModelStore.add` stores the bytes and the manifest.

Layout::

    <root>/CURRENT               the serving version name, e.g. 'v0002'
    <root>/v0001/model.joblib    the artefact (or model.pkl, model.skops, model.onnx, family.bin)
    <root>/v0001/manifest.json   see `Manifest`
    <root>/v0001/baseline.json   its baseline, if published with one (`monitoring.baseline`);
                                 its sha256 in the manifest's `extra["baseline"]`
    <root>/.reserved/v0001       version numbers ever handed out (never reused)
    <root>/.lock                 locked (flock) while CURRENT is compared and replaced
"""

import dataclasses
import fcntl
import hashlib
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from stream_scorer.contract.manifest import MANIFEST_FILE, Manifest
from stream_scorer.errors import DuplicateModelError, ModelRejectedError, ModelStoreError
from stream_scorer.versions.signing import signed

log = logging.getLogger(__name__)

CURRENT_FILE = "CURRENT"
BASELINE_FILE = "baseline.json"
BASELINE_KEY = "baseline"
"""The manifest's `extra` key holding `{"file": BASELINE_FILE, "sha256": ...}`."""
LOCK_FILE = ".lock"
_VERSION = re.compile(r"^v(\d{4,})$")


class ModelStore:
    """Versions `v0001/`, `v0002/`... under `root`, and the `CURRENT` pointer.

    A version directory is complete when it appears (staged, then renamed); `CURRENT` is
    replaced atomically (temp file, fsync, `os.replace`), so a reader sees the old or the
    new version, never a torn one. Concurrent publishers get distinct version numbers, and
    every change of `CURRENT` holds the store's lock, so a publish only moves it forward.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"ModelStore({str(self.root)!r})"

    def current_version(self) -> str | None:
        """The version CURRENT names, or None when nothing was published yet."""
        try:
            text = (self.root / CURRENT_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            msg = f"{self.root / CURRENT_FILE}: cannot read: {exc.strerror}"
            raise ModelStoreError(msg) from exc
        if not _VERSION.match(text):
            msg = f"{self.root / CURRENT_FILE}: holds {text[:40]!r}, not a version like 'v0001'"
            raise ModelStoreError(msg)
        return text

    def versions(self) -> list[str]:
        """Version directory names, oldest first."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=_number)

    def manifest(self, version: str) -> Manifest:
        """Read the manifest of `version`; ModelStoreError if missing or unparseable."""
        if not _VERSION.match(version):
            msg = f"{self.root}: {version!r} is not a version name like 'v0001'"
            raise ModelStoreError(msg)
        path = self.root / version / MANIFEST_FILE
        try:
            return Manifest.from_json(path.read_text())
        except OSError as exc:
            msg = f"{path}: cannot read manifest of {version}: {exc.strerror}"
            raise ModelStoreError(msg) from exc
        except (ValueError, KeyError, TypeError) as exc:
            msg = f"{path}: manifest of {version} is not valid: {exc!r}"
            raise ModelStoreError(msg) from exc

    def artifact_path(self, version: str) -> Path:
        """Where the artefact of `version` is, as named by its manifest."""
        return self.root / version / self.manifest(version).file

    def read_artifact(self, version: str) -> bytes:
        """The artefact bytes of `version`, as named by its manifest."""
        path = self.artifact_path(version)
        try:
            return path.read_bytes()
        except OSError as exc:
            msg = f"{path}: cannot read artefact of {version}: {exc.strerror}"
            raise ModelStoreError(msg) from exc

    def set_current(self, version: str) -> None:
        """Point CURRENT at an existing `version`, older or newer, atomically and durably."""
        with self._locked():
            self._point_current(version)

    def advance_current(self, version: str) -> str:
        """Point CURRENT at `version` unless it names a newer one; return what it names then.

        The compare and the flip hold the store's lock, so of racing publishes the newest
        version ends up CURRENT whatever order they finish in.
        """
        with self._locked():
            try:
                current = self.current_version()
            except ModelStoreError:
                current = None  # garbage in CURRENT: a publish replaces it
            if current is not None and _number(current) >= _number(version):
                return current
            self._point_current(version)
            return version

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the store's exclusive lock (flock on `.lock`: other threads and processes wait)."""
        if not self.root.is_dir():  # no store: nothing to guard, and callers say what is missing
            yield
            return
        try:
            fd = os.open(self.root / LOCK_FILE, os.O_WRONLY | os.O_CREAT, 0o644)
        except OSError as exc:
            msg = f"{self.root}: cannot lock the model store: {exc.strerror}"
            raise ModelStoreError(msg) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _point_current(self, version: str) -> None:
        if version not in self.versions():
            msg = f"{self.root}: no version {version!r}; have {self.versions()}"
            raise ModelStoreError(msg)
        tmp = self.root / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
        try:
            _write_durably(tmp, (version + "\n").encode())
            os.replace(tmp, self.root / CURRENT_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)

    def rollback(self) -> str:
        """Point CURRENT at the newest valid version older than the current one; return it.

        Valid means: the manifest parses and the artefact's sha256 matches it.
        """
        with self._locked():
            current = self.current_version()
            if current is None:
                msg = f"{self.root}: nothing to roll back, CURRENT is not set"
                raise ModelStoreError(msg)
            older = [v for v in self.versions() if _number(v) < _number(current)]
            for version in reversed(older):
                if self.is_valid(version):
                    self._point_current(version)
                    return version
        msg = f"{self.root}: no valid version before {current} to roll back to"
        raise ModelStoreError(msg)

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
        path = self.root / version / recorded["file"]
        try:
            data = path.read_bytes()
        except OSError as exc:
            msg = f"{path}: cannot read the baseline of {version}: {exc.strerror}"
            raise ModelStoreError(msg) from exc
        actual = hashlib.sha256(data).hexdigest()
        if actual != recorded["sha256"]:
            msg = (
                f"{path}: sha256 mismatch (manifest {recorded['sha256'][:12]}…, file "
                f"{actual[:12]}…); the baseline of {version} changed after publish"
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
            msg = f"{self.root}: cannot write a new version: {exc}"
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
                f"{self.root}: this artefact (sha256 {sha256[:12]}) is already stored as "
                f"{existing}; `stream-scorer model promote {existing}` serves it, --force "
                "stores it again as a new version"
            )
            raise DuplicateModelError(msg)

    def _write_version(
        self, described: Manifest, payload: bytes, baseline: bytes | None = None
    ) -> Manifest:
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        if baseline is not None:
            recorded = {"file": BASELINE_FILE, "sha256": hashlib.sha256(baseline).hexdigest()}
            described = dataclasses.replace(
                described, extra={**described.extra, BASELINE_KEY: recorded}
            )
        try:
            manifest = signed(dataclasses.replace(described, version=self._reserve()))
            _write_durably(staging / manifest.file, payload)
            if baseline is not None:
                _write_durably(staging / BASELINE_FILE, baseline)
            _write_durably(staging / MANIFEST_FILE, manifest.to_json().encode())
            os.rename(staging, self.root / manifest.version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync_dir(self.root)
        return manifest

    def _reserve(self) -> str:
        """Claim the next version number by exclusive creation of a marker file."""
        reserved = self.root / ".reserved"
        reserved.mkdir(exist_ok=True)
        taken = [p.name for p in reserved.iterdir()] + self.versions()
        number = max((_number(v) for v in taken if _VERSION.match(v)), default=0) + 1
        while True:
            version = f"v{number:04d}"
            try:
                os.close(os.open(reserved / version, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                number += 1
                continue
            if not (self.root / version).exists():
                return version
            number += 1


def read_model_file(path: str | Path) -> bytes:
    """The bytes of a model file to publish; ModelStoreError if it cannot be read."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot read model file: {exc.strerror}"
        raise ModelStoreError(msg) from exc


def _number(version: str) -> int:
    return int(version[1:])


def _write_durably(path: Path, data: bytes) -> None:
    with open(path, "xb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
