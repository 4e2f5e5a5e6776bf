"""The interface a model source implements for `ModelRegistry`.

The registry polls `current_version` once per micro-batch on the driver, so it must be
cheap (a small file read, one registry call). `manifest` and `read_artifact` are called
only for a version not seen before; verification (`versions.verify`) then checks the bytes
against the manifest's sha256, the schema and the canary rows, whatever the source.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from stream_scorer.contract.manifest import Manifest


@dataclass(frozen=True)
class SharedFile:
    """A version's artefact where every machine can read it."""

    url: str
    """An absolute path (on a cluster, an NFS mount at the same path) or an object-store URL."""
    size: int
    options: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)
    """The fsspec storage options executors open `url` with (`model.store_options`)."""


class VersionReader(Protocol):
    """Reads the manifest and artefact of a version (`ModelStore` is one)."""

    def manifest(self, version: str) -> Manifest:
        """The manifest of `version` (its `version` field equals `version`).

        Raises
        ------
        ModelStoreError
            If it cannot be read.
        ModelRejectedError
            If the version can never serve (an unsupported MLflow flavour, for example).
        """

    def read_artifact(self, version: str) -> bytes:
        """The artefact bytes of `version`; ModelStoreError if they cannot be read."""


class ModelSource(VersionReader, Protocol):
    """Versions of one model, with a pointer naming the one to serve now."""

    location: str
    """Where versions come from, for logs and status: a store directory, `models:/NAME@ALIAS`."""
    unset: str
    """Why nothing serves when `current_version` is None, and what to do about it."""
    signed: bool
    """Whether its manifests are ours, so signed when a signing key is set (`versions.signing`):
    True for our store, False for MLflow, whose versions carry no signature to check."""

    def current_version(self) -> str | None:
        """The version the pointer names now, or None when it names none.

        Raises
        ------
        ModelStoreError
            If the pointer cannot be read.
        """

    def shared_file(self, version: str) -> SharedFile | None:
        """Where every machine reads `version`'s artefact (our store: an object-store URL, or
        a path that on a cluster is an NFS mount), so that a big one can be copied into each
        machine's cache and memory-mapped (`distribution`); None when executors cannot read
        it there (MLflow: downloaded by the driver), or it cannot be located. Never raises."""
