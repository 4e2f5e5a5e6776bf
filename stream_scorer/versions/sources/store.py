"""Our model store as a model source: CURRENT, the newest version, or one fixed version."""

import os
from pathlib import Path

from stream_scorer.contract.manifest import Manifest
from stream_scorer.errors import ModelStoreError
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

    def __init__(self, root: str | Path, pointer: str = CURRENT) -> None:
        self.store = ModelStore(root)
        self.pointer = pointer
        self.location = str(self.store.root) + ("" if pointer == CURRENT else f" ({pointer})")
        hint = "publish one with `stream-scorer model publish`"
        self.unset = {
            CURRENT: f"{self.store.root}: CURRENT is not set; {hint}",
            LATEST: f"{self.store.root}: no version published yet; {hint}",
        }.get(pointer, f"{self.store.root}: no version {pointer}; {hint}")

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

    def shared_file(self, version: str) -> Path | None:
        """The stored artefact file of `version`, absolute; None if its manifest is unreadable
        (`load_verified` then says why)."""
        try:
            return Path(os.path.abspath(self.store.artifact_path(version)))
        except ModelStoreError:
            return None
