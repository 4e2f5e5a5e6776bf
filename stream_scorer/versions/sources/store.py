"""Our model store as a model source: CURRENT, the newest version, or one fixed version."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ModelStoreError
from stream_scorer.versions.sources.base import SharedFile
from stream_scorer.versions.store import ModelStore

CURRENT = "CURRENT"
LATEST = "latest"


class StoreSource:
    """Versions of a `ModelStore`, served as `pointer` says.

    `pointer` is `CURRENT` (what `model publish`, `promote` and `rollback` set: the served
    model), `latest` (the newest version, published with or without `--no-promote`: a
    challenger) or a version name such as `v0003`.
    """

    signed = True
    """`model publish` signs manifests when a signing key is set; `load_verified` checks them."""

    def __init__(
        self, root: str | Path, pointer: str = CURRENT, options: Mapping[str, Any] | None = None
    ) -> None:
        self.store = ModelStore(root, options)
        self.pointer = pointer
        where = self.store.location
        self.location = where + ("" if pointer == CURRENT else f" ({pointer})")
        hint = "publish one with `stream-scorer model publish`"
        self.unset = {
            CURRENT: f"{where}: CURRENT is not set; {hint}",
            LATEST: f"{where}: no version published yet; {hint}",
        }.get(pointer, f"{where}: no version {pointer}; {hint}")

    def current_version(self) -> str | None:
        """The version `pointer` names now, or None."""
        if self.pointer == CURRENT:
            return self.store.current_version()
        versions = self.store.versions()
        if self.pointer == LATEST:
            return versions[-1] if versions else None
        return self.pointer if self.pointer in versions else None

    def manifest(self, version: str) -> Manifest:
        """The stored manifest of `version`."""
        return self.store.manifest(version)

    def read_artifact(self, version: str) -> bytes:
        """The stored artefact bytes of `version`."""
        return self.store.read_artifact(version)

    def shared_file(self, version: str) -> SharedFile | None:
        """The stored artefact of `version` (an absolute path or a URL); None if its manifest
        or size is unreadable (`load_verified` then says why)."""
        try:
            url, size = self.store.artifact_url(version), self.store.artifact_size(version)
        except ModelStoreError:
            return None
        return SharedFile(url, size, self.store.storage.options)
