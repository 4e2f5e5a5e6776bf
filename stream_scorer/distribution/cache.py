"""A per-machine directory of verified model artefacts named by sha256, shared by every process
of the machine (driver, executors, Python workers).

`materialise` copies an artefact from its source once per machine: under an exclusive lock on
the directory, into a hidden part file hashed while it is written, fsynced, then renamed into
place, so a reader sees a whole file or none; a concurrent caller waits on the lock and finds
the file there. A file already there is hashed before use (once per process while it stays the
same file) and fetched again if its sha256 differs. The directory keeps the `keep` artefacts
materialised last; `discard` removes a retired one.

The directory is private to its owner (0700) and each copy read-only (0444), so no other user
can alter a copy a worker maps. `changed` tells whether a copy is still the file this process
verified (path, inode, size, mtime and ctime; any write changes one), so a copy altered while
it serves is noticed before the next batch uses it, hashed again and fetched again.
"""

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stream_scorer.distribution.source import open_source
from stream_scorer.errors import ArtefactCacheError, ModelRejectedError
from stream_scorer.versions.verify import sha256_mismatch

log = logging.getLogger(__name__)

DEFAULT_DIR = "stream-scorer-models"
"""The cache directory's name in the system temp directory when `model.cache_dir` is unset."""
_LOCK = ".lock"
_CHUNK = 4 * 1024 * 1024
_verified: dict[tuple[str, int, int, int, int], str] = {}
"""(path, inode, size, mtime, ctime) -> sha256 this process hashed; any write changes the key."""
_verified_lock = threading.Lock()


@dataclass(frozen=True)
class ArtefactCache:
    """The cache directory of the machine it is used on; picklable, resolved where used."""

    directory: str | None = None
    """Its path; None: `stream-scorer-models` in the machine's temp directory."""
    keep: int = 2
    """How many artefacts the directory keeps, most recently materialised first."""

    @property
    def root(self) -> Path:
        """The directory on this machine."""
        return Path(self.directory or Path(tempfile.gettempdir()) / DEFAULT_DIR)

    def path(self, sha256: str, suffix: str) -> Path:
        """Where the artefact with `sha256` is (or will be) kept; `suffix` names its format."""
        return self.root / f"{sha256}{suffix}"

    def materialise(
        self, source: str, sha256: str, suffix: str, options: Mapping[str, Any] | None = None
    ) -> Path:
        """Return the verified local copy of the artefact at `source` (a path, or a URL opened
        with fsspec `options`), fetching it if needed.

        Raises
        ------
        ModelStoreError
            If `source` cannot be read.
        ModelRejectedError
            If the bytes read from `source` do not have `sha256` (the store changed).
        ArtefactCacheError
            If the copy cannot be written (disk full, directory not writable); nothing is left.
        """
        path = self.path(sha256, suffix)
        if _matches(path, sha256):
            return path
        with self._locked():
            if not _matches(path, sha256):  # not written by another process meanwhile
                if path.exists():
                    log.warning("%s: sha256 differs from its name; fetching it again", path)
                    path.unlink()
                self._fetch(source, sha256, path, options or {})
            self._prune(path)
        return path

    def changed(self, path: Path, sha256: str) -> bool:
        """True unless `path` is still the file this process last verified to hold `sha256`
        (a `stat`, no read); then `materialise` hashes it again and fetches it if altered."""
        try:
            key = _state(path)
        except FileNotFoundError:
            return True
        with _verified_lock:
            return _verified.get(key) != sha256

    def discard(self, sha256: str) -> None:
        """Remove the artefact with `sha256`, if here. A process mapping it keeps its pages
        until it unmaps them; the disk space is freed then."""
        if not self.root.is_dir():
            return
        with self._locked():
            for path in self.root.glob(f"{sha256}.*"):
                path.unlink(missing_ok=True)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.root.stat().st_mode & 0o077:  # made by someone else, or before: private now
                self.root.chmod(0o700)
            fd = os.open(self.root / _LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise _cache_error(self.root, "cannot use the cache directory", exc) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _fetch(self, source: str, sha256: str, path: Path, options: Mapping[str, Any]) -> None:
        part = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        try:
            with open_source(source, options) as reader, open(part, "xb") as out:
                while chunk := reader.read(_CHUNK):
                    digest.update(chunk)
                    try:
                        out.write(chunk)
                    except OSError as exc:
                        raise _cache_error(path, f"cannot store {source}", exc) from exc
                try:
                    out.flush()
                    os.fsync(out.fileno())
                except OSError as exc:
                    raise _cache_error(path, f"cannot store {source}", exc) from exc
            if digest.hexdigest() != sha256:
                raise ModelRejectedError(f"{source}: {sha256_mismatch(sha256, digest.hexdigest())}")
            os.chmod(part, 0o444)
            os.replace(part, path)
        finally:
            part.unlink(missing_ok=True)
        _remember(path, sha256)
        log.info("fetched %s into %s", source, path)

    def _prune(self, keeping: Path) -> None:
        """Under the lock: drop part files left by crashed writers, then all but the `keep`
        artefacts materialised last (always `keeping`)."""
        entries = [p for p in self.root.iterdir() if p.name != _LOCK]
        for part in (p for p in entries if p.name.endswith(".part")):
            part.unlink(missing_ok=True)
        artefacts = [p for p in entries if not p.name.startswith(".") and p != keeping]
        artefacts.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in artefacts[max(self.keep - 1, 0) :]:
            old.unlink(missing_ok=True)


def _matches(path: Path, sha256: str) -> bool:
    """True if `path` exists and hashes to `sha256` (hashed once per process per file state)."""
    try:
        key = _state(path)
    except FileNotFoundError:
        return False
    with _verified_lock:
        if _verified.get(key) == sha256:
            return True
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:  # pruned or discarded by another process meanwhile
        return False
    if digest.hexdigest() != sha256:
        return False
    with _verified_lock:
        _verified[key] = sha256
    return True


def _remember(path: Path, sha256: str) -> None:
    with _verified_lock:
        _verified[_state(path)] = sha256


def _state(path: Path) -> tuple[str, int, int, int, int]:
    stat = path.stat()
    return str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns


def _cache_error(path: Path, what: str, exc: OSError) -> ArtefactCacheError:
    existing = next((p for p in (path, *path.parents) if p.exists()), Path("/"))
    try:
        free = f"{shutil.disk_usage(existing).free // 2**20} MiB free"
    except OSError:
        free = "free space unknown"
    msg = (
        f"{path}: {what}: {exc.strerror or exc} ({free}); free disk space there or set "
        "model.cache_dir to a larger disk"
    )
    return ArtefactCacheError(msg)
