"""Reading an artefact where the model store keeps it: a local path, or a URL pyarrow reads.

On executors there is no JVM handle to Spark's Hadoop FileSystem, so a local path or `file:`
URL is read with Python's file API (an NFS mount is local here), and another scheme through
`pyarrow.fs.FileSystem.from_uri` (`hdfs://` needs libhdfs and a Hadoop client on every
executor; `s3://` pyarrow's S3 support; `s3a://` is read as `s3://`).
"""

from typing import BinaryIO
from urllib.parse import urlparse

from stream_scorer.errors import ModelStoreError
from stream_scorer.files import is_local


def open_source(url: str) -> BinaryIO:
    """Open the artefact at `url` for reading, from its start.

    Raises
    ------
    ModelStoreError
        If it cannot be opened; the message names `url` and why.
    """
    try:
        if is_local(url):
            return open(urlparse(url).path if urlparse(url).scheme else url, "rb")
        from pyarrow import fs

        filesystem, path = fs.FileSystem.from_uri(url.replace("s3a://", "s3://", 1))
        stream: BinaryIO = filesystem.open_input_stream(path)
        return stream
    except (OSError, ValueError) as exc:  # pyarrow raises OSError, or ValueError on a URL
        msg = f"{url}: cannot read the model artefact: {getattr(exc, 'strerror', None) or exc}"
        raise ModelStoreError(msg) from exc
