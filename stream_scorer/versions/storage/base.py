"""The storage interface a `ModelStore` writes through: named files under one root, versions
written complete or not at all, and one atomic read-modify-write of CURRENT.

A name is relative to the store's root: `CURRENT`, `v0001/manifest.json`. The store's logic
(numbering, duplicates, only-forward, rollback) lives in `ModelStore`; an implementation gives
only the atomic steps it builds on, so the local directory and an object store keep the same
guarantees by different means (`local.LocalStorage`: a lock and renames;
`objects.ObjectStorage`: conditional writes).
"""

from collections.abc import Callable, Mapping
from typing import Any, Protocol

CURRENT_FILE = "CURRENT"
RESERVED_DIR = ".reserved"

Decide = Callable[[str | None], str | None]
"""Given what CURRENT holds (stripped text, or None when unset), the text to write, or None to
leave it; may be called more than once (an object store retries after losing a race)."""


class Storage(Protocol):
    """The files of one model store."""

    location: str
    """The store's root as the user gave it (a directory or a URL), for messages."""
    options: Mapping[str, Any]
    """What a reader elsewhere (an executor) needs to open `url(name)`: fsspec storage options."""

    def exists(self) -> bool:
        """True if the store's root exists (holds anything, for an object store)."""

    def versions(self) -> list[str]:
        """Names of the complete version folders (a version appears whole or not at all)."""

    def read(self, name: str) -> bytes:
        """The bytes of file `name`; FileNotFoundError if missing, OSError if unreadable."""

    def size(self, name: str) -> int:
        """The size of file `name` in bytes; OSError if it cannot be told."""

    def url(self, name: str) -> str:
        """Where another machine reads file `name`: an absolute path or a URL."""

    def reserved(self) -> list[str]:
        """Version names ever reserved (`reserve`)."""

    def reserve(self, version: str) -> bool:
        """Claim `version` by creating its marker once; False if another publisher has it."""

    def write_version(self, version: str, files: Mapping[str, bytes]) -> None:
        """Write the new version folder `version` with `files` (name -> bytes, the manifest
        last); nothing is visible as a version until all are durable. OSError on failure."""

    def update_current(self, decide: Decide) -> str | None:
        """Atomically: read CURRENT, `decide`, write what it returns; return what CURRENT holds
        afterwards. No other update interleaves between the read and the write."""
