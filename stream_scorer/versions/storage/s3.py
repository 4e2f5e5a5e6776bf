"""Conditional writes on S3 (and S3-compatible servers), through s3fs's client.

Create-once is `PutObject` with `If-None-Match: *`; the compare-and-swap of CURRENT is
`PutObject` with `If-Match: <ETag>` of the object as read. S3 answers 412 Precondition Failed
when the condition does not hold, and 409 ConditionalRequestConflict when another conditional
write of the key is in flight: both mean another writer won, or may have, so read again.
"""

import time
from typing import Any

from fsspec.asyn import sync

_LOST = {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}
_IN_FLIGHT_RETRIES = 20


class S3Writes:
    """`ConditionalWrites` of an `s3fs.S3FileSystem`."""

    def __init__(self, fs: Any) -> None:
        self._fs = fs

    def get(self, path: str) -> tuple[bytes, str] | None:
        bucket, key, _ = self._fs.split_path(path)
        try:
            data, etag = sync(self._fs.loop, _get_object, self._fs, bucket, key)
        except FileNotFoundError:
            return None
        return data, etag

    def create(self, path: str, data: bytes) -> bool:
        for _ in range(_IN_FLIGHT_RETRIES):
            try:
                self._fs.pipe_file(path, data, mode="create")
            except FileExistsError:
                return False
            except OSError as exc:
                if _error_code(exc) not in ("ConditionalRequestConflict", "409"):
                    raise
                time.sleep(0.05)  # another create of the key is in flight: see who won
                continue
            return True
        return False

    def swap(self, path: str, data: bytes, token: str) -> bool:
        try:
            self._fs.pipe_file(path, data, IfMatch=token)
        except OSError as exc:
            if _error_code(exc) in _LOST:
                return False
            raise
        return True


async def _get_object(fs: Any, bucket: str, key: str) -> tuple[bytes, str]:
    """The object's bytes and ETag from one GET, so the two belong together."""
    response = await fs._call_s3("get_object", Bucket=bucket, Key=key)
    body = response["Body"]
    try:
        data: bytes = await body.read()
    finally:
        body.close()
    return data, str(response["ETag"])


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code behind an error s3fs translated (its cause is botocore's)."""
    cause = exc.__cause__
    response = getattr(cause, "response", None)
    if not isinstance(response, dict):
        return None
    error = response.get("Error", {})
    return str(error.get("Code") or response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
