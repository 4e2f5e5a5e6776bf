"""Conditional writes on Google Cloud Storage, through gcsfs's client (its JSON API calls).

GCS numbers each write of an object (its generation); a write can be made conditional on it.
Create-once is an upload with `ifGenerationMatch=0` (gcsfs's `mode="create"`); the
compare-and-swap of CURRENT is an upload with `ifGenerationMatch=<generation>` of the object as
read. GCS answers 412 Precondition Failed when the condition does not hold, which gcsfs raises
as FileExistsError: another writer won, so read again. Buckets of the standard (not zonal)
layout, which take JSON API uploads.
"""

import json
from typing import Any
from urllib.parse import quote

_GENERATION = "x-goog-generation"
_BOUNDARY = "==stream-scorer=="


class GCSWrites:
    """`ConditionalWrites` of a `gcsfs.GCSFileSystem`."""

    def __init__(self, fs: Any) -> None:
        self._fs = fs

    def get(self, path: str) -> tuple[bytes, str] | None:
        try:
            headers, data = self._fs.call("GET", self._fs.url(path))
        except FileNotFoundError:
            return None
        generation = {k.lower(): v for k, v in headers.items()}.get(_GENERATION)
        if not generation:
            msg = f"gs://{path}: the download carried no {_GENERATION} header"
            raise OSError(msg)
        return bytes(data), str(generation)

    def create(self, path: str, data: bytes) -> bool:
        # One multipart upload whatever the size (gcsfs would go resumable from 50 MiB): the
        # precondition rides on the one request that writes, as on CURRENT's swap.
        try:
            self._fs.pipe_file(path, data, mode="create", chunksize=len(data) + 1)
        except FileExistsError:  # 412: ifGenerationMatch=0 failed, the object exists
            return False
        return True

    def swap(self, path: str, data: bytes, token: str) -> bool:
        try:
            self._upload(path, data, if_generation_match=token)
        except FileExistsError:  # 412: the generation moved on
            return False
        return True

    def _upload(self, path: str, data: bytes, if_generation_match: str) -> None:
        """One multipart upload (metadata and bytes in one request), as gcsfs's own small
        uploads are, with the precondition as a query parameter."""
        bucket, key, _ = self._fs.split_path(path)
        head = (
            f"--{_BOUNDARY}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n"
            f"{json.dumps({'name': key})}\r\n"
            f"--{_BOUNDARY}\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        body = head.encode() + data + f"\r\n--{_BOUNDARY}--".encode()
        self._fs.call(
            "POST",
            f"{self._fs._location}/upload/storage/v1/b/{quote(bucket, safe='')}/o",
            uploadType="multipart",
            ifGenerationMatch=if_generation_match,
            headers={"Content-Type": f'multipart/related; boundary="{_BOUNDARY}"'},
            data=body,
            json_out=True,
        )
