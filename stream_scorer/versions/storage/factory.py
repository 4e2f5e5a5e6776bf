"""The storage a model store location names: a directory, or an object-store URL."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from stream_scorer.versions.storage.base import Storage
from stream_scorer.versions.storage.local import LocalStorage


def is_object_store(location: str) -> bool:
    """True for a URL with a scheme other than `file:` (one letter is a Windows drive)."""
    scheme = urlparse(location).scheme
    return len(scheme) > 1 and scheme != "file"


def open_storage(location: str, options: Mapping[str, Any] | None = None) -> Storage:
    """`LocalStorage` for a path or `file:` URL, else `ObjectStorage` with fsspec `options`.

    Raises
    ------
    ModelStoreError
        If the object store's fsspec implementation is not installed (naming the extra).
    """
    if not is_object_store(location):
        return LocalStorage(location)
    from stream_scorer.versions.storage.objects import ObjectStorage

    return ObjectStorage(location, options)
