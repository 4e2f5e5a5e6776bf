"""A model store in a local directory (or an NFS mount): renames and one lock file.

Layout::

    <root>/CURRENT               the serving version name, e.g. 'v0002'
    <root>/v0001/model.joblib    the artefact (or model.pkl, model.skops, model.onnx, family.bin)
    <root>/v0001/manifest.json   see `Manifest`
    <root>/.reserved/v0001       version numbers ever handed out (never reused)
    <root>/.lock                 locked (flock) while CURRENT is compared and replaced
"""

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from stream_scorer.errors import ModelStoreError
from stream_scorer.versions.storage.base import CURRENT_FILE, RESERVED_DIR, Decide

LOCK_FILE = ".lock"
_VERSION = re.compile(r"^v(\d{4,})$")


class LocalStorage:
    """A version folder is staged under a hidden name, then renamed into place, so it appears
    complete; CURRENT is replaced atomically (temp file, fsync, `os.replace`) while the store's
    lock (flock on `.lock`) is held, so every read-modify-write of it is serialised across
    threads and processes."""

    options: Mapping[str, Any] = {}

    def __init__(self, root: str | Path) -> None:
        text = str(root)
        self.root = Path(urlparse(text).path if text.startswith("file:") else text)
        self.location = str(self.root)

    def exists(self) -> bool:
        return self.root.is_dir()

    def versions(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]

    def read(self, name: str) -> bytes:
        return (self.root / name).read_bytes()

    def size(self, name: str) -> int:
        return (self.root / name).stat().st_size

    def url(self, name: str) -> str:
        return os.path.abspath(self.root / name)

    def reserved(self) -> list[str]:
        folder = self.root / RESERVED_DIR
        return [p.name for p in folder.iterdir()] if folder.is_dir() else []

    def reserve(self, version: str) -> bool:
        (self.root / RESERVED_DIR).mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(self.root / RESERVED_DIR / version, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return not (self.root / version).exists()

    def write_version(self, version: str, files: Mapping[str, bytes]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            for name, data in files.items():
                _write_durably(staging / name, data)
            os.rename(staging, self.root / version)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        _fsync_dir(self.root)

    def update_current(self, decide: Decide) -> str | None:
        with self.locked():
            try:
                current: str | None = self.read(CURRENT_FILE).decode(errors="replace").strip()
            except FileNotFoundError:
                current = None
            new = decide(current)
            if new is None:
                return current
            self._replace_current(new)
            return new

    @contextmanager
    def locked(self) -> Iterator[None]:
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

    def _replace_current(self, text: str) -> None:
        tmp = self.root / f".{CURRENT_FILE}.{uuid.uuid4().hex}"
        try:
            _write_durably(tmp, (text + "\n").encode())
            os.replace(tmp, self.root / CURRENT_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)


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
