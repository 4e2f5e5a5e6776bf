"""Conditional writes on Azure Blob Storage (and ADLS Gen2 accounts), through adlfs's client.

Create-once is Put Blob with `If-None-Match: *` (adlfs's `mode="create"`: Azure answers 409
BlobAlreadyExists when the blob exists); the compare-and-swap of CURRENT is Put Blob with
`If-Match: <ETag>` of the blob as read (412 ConditionNotMet when it changed). Either refusal
means another writer won: read again.
"""

from typing import Any

from fsspec.asyn import sync


class AzureWrites:
    """`ConditionalWrites` of an `adlfs.AzureBlobFileSystem`."""

    def __init__(self, fs: Any) -> None:
        self._fs = fs

    def get(self, path: str) -> tuple[bytes, str] | None:
        container, blob, _ = self._fs.split_path(path)
        try:
            data, etag = sync(self._fs.loop, _download, self._fs, container, blob)
        except FileNotFoundError:
            return None
        return data, etag

    def create(self, path: str, data: bytes) -> bool:
        try:
            self._fs.pipe_file(path, data, mode="create")  # If-None-Match: *
        except FileExistsError:
            return False
        return True

    def swap(self, path: str, data: bytes, token: str) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError

        try:
            self._fs.pipe_file(
                path, data, etag=token, match_condition=MatchConditions.IfNotModified
            )
        except ResourceModifiedError:  # 412: the ETag moved on
            return False
        return True


async def _download(fs: Any, container: str, blob: str) -> tuple[bytes, str]:
    """The blob's bytes and ETag from one download, so the two belong together."""
    from azure.core.exceptions import ResourceNotFoundError

    async with fs.service_client.get_blob_client(container=container, blob=blob) as client:
        try:
            stream = await client.download_blob()
        except ResourceNotFoundError as exc:
            raise FileNotFoundError(f"{container}/{blob}") from exc
        data: bytes = await stream.readall()
        return data, str(stream.properties.etag)
