"""What the GCS and Azure test servers share: their model stores and objects, reached through
the fsspec client (`fs()`) each one builds from its `options`."""

import uuid
from typing import Any, ClassVar

from stream_scorer.versions.store import ModelStore


class FsspecServer:
    """A test object-store server at `scheme://`; subclasses give `options` and `fs()`."""

    scheme: ClassVar[str]

    @property
    def options(self) -> dict[str, Any]:
        raise NotImplementedError

    def fs(self) -> Any:
        raise NotImplementedError

    def open(self, location: str) -> ModelStore:
        """The model store at `location`, opened with `options`."""
        return ModelStore(location, self.options)

    def new_bucket(self) -> str:
        """Create an empty bucket (container); return its name."""
        name = f"models-{uuid.uuid4().hex[:12]}"
        self.fs().mkdir(name)
        return name

    def new_store(self, prefix: str = "team/models") -> ModelStore:
        """A model store under `prefix` of a new bucket, opened with `options`."""
        return ModelStore(f"{self.scheme}://{self.new_bucket()}/{prefix}", self.options)

    def keys(self, store: ModelStore) -> list[str]:
        """The object names under `store`'s prefix, relative to it, sorted."""
        root = store.location.removeprefix(f"{self.scheme}://")
        return sorted(p[len(root) + 1 :] for p in self.fs().find(root))

    def put(self, store: ModelStore, name: str, data: bytes) -> None:
        """Overwrite object `name` of `store` unconditionally (tampering)."""
        self.fs().pipe_file(f"{store.location}/{name}", data)
