"""Reading an artefact where the model store keeps it: a local path, or a URL fsspec reads.

On executors there is no JVM handle to Spark's Hadoop FileSystem, so a local path or `file:`
URL is read with Python's file API (an NFS mount is local here), and another scheme through
fsspec, as the model store itself is (`versions.storage.objects`): `s3://` with s3fs (the s3
extra; `s3a://` is read as `s3://`), `gs://` gcsfs (the gcs extra), `abfs://` adlfs (the azure
extra), `hdfs://` pyarrow's libhdfs binding (a Hadoop client on every executor).
"""

from collections.abc import Mapping
from typing import Any, BinaryIO
from urllib.parse import urlparse

from stream_scorer.errors import ModelStoreError
from stream_scorer.files import is_local
from stream_scorer.versions.storage.objects import missing_package


def open_source(url: str, options: Mapping[str, Any] | None = None) -> BinaryIO:
    """Open the artefact at `url` for reading, from its start; `options` are fsspec storage
    options (credentials, `endpoint_url`), else each SDK reads its environment.

    Raises
    ------
    ModelStoreError
        If it cannot be opened; the message names `url` and why.
    """
    try:
        if is_local(url):
            return open(urlparse(url).path if urlparse(url).scheme else url, "rb")
        import fsspec

        opened = fsspec.open(url.replace("s3a://", "s3://", 1), "rb", **(options or {}))
        stream: BinaryIO = opened.open()
        return stream
    except ImportError as exc:
        scheme = urlparse(url).scheme.replace("s3a", "s3")
        msg = f"{url}: cannot read the model artefact: {exc} ({scheme}:// needs "
        msg += f"{missing_package(scheme)})"
        raise ModelStoreError(msg) from exc
    except (OSError, ValueError) as exc:
        msg = f"{url}: cannot read the model artefact: {getattr(exc, 'strerror', None) or exc}"
        raise ModelStoreError(msg) from exc
