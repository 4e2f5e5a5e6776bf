"""Files under one directory, given as a local path or a Hadoop URL (hdfs://, s3a://, file:/).

With a Spark session at hand, every location goes through the session's Hadoop FileSystem
API, as the sinks' commit markers do, so a checkpoint on HDFS or S3 reads like a local one.
Without one, a local path or `file:` URL is read with Python's file API: `stream-scorer
status` then needs no JVM.
"""

import os
import tempfile
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlparse

from stream_scorer.errors import ScorerError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class Files(Protocol):
    """Access to the files under one directory, by names relative to it ("" is the root)."""

    def exists(self, name: str) -> bool:
        """True if `name` exists."""

    def list(self, name: str) -> list[str]:
        """The entry names of directory `name`; [] if it does not exist."""

    def read(self, name: str) -> str:
        """The text of file `name` (UTF-8); OSError if it cannot be read."""

    def write_atomically(self, name: str, text: str) -> None:
        """Replace file `name` with `text`; a reader sees the old or the new text, never part."""

    def create(self, name: str, text: str, overwrite: bool = False) -> bool:
        """Write file `name` in place; without `overwrite`, False (nothing written) if it exists.

        The file never disappears while overwritten, but a reader may see it empty or partial.
        """

    def delete(self, name: str) -> None:
        """Delete file `name` if it exists."""


def is_local(url: str) -> bool:
    """True for a plain path or a `file:` URL."""
    return urlparse(url).scheme in ("", "file")


def join(url: str, *names: str) -> str:
    """`url` with `names` appended; unlike `Path`, keeps the `//` of `hdfs://host/...`."""
    return "/".join([url.rstrip("/"), *names])


def files_at(url: str, spark: "SparkSession | None" = None) -> Files:
    """The files under `url`: through `spark`'s Hadoop FileSystem if given, else locally.

    A Hadoop URL without `spark` uses the active SparkSession.

    Raises
    ------
    ScorerError
        If `url` is not local and no SparkSession is active.
    """
    if spark is not None:
        return HadoopFiles(spark, url)
    if is_local(url):
        return LocalFiles(url)
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is None:
        msg = f"{url}: reading a Hadoop URL needs a SparkSession, and none is active"
        raise ScorerError(msg)
    return HadoopFiles(active, url)


class LocalFiles:
    """Files of a local directory, read and written with Python's file API."""

    def __init__(self, url: str) -> None:
        self.root = Path(urlparse(url).path if urlparse(url).scheme else url)

    def exists(self, name: str) -> bool:
        return (self.root / name).exists()

    def list(self, name: str) -> list[str]:
        folder = self.root / name
        return [p.name for p in folder.iterdir()] if folder.is_dir() else []

    def read(self, name: str) -> str:
        return (self.root / name).read_text(errors="replace")

    def write_atomically(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)

    def create(self, name: str, text: str, overwrite: bool = False) -> bool:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("w" if overwrite else "x") as handle:
                handle.write(text)
        except FileExistsError:
            return False
        return True

    def delete(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)


class HadoopFiles:
    """Files of a directory on any Hadoop FileSystem, through a Spark session's JVM.

    `write_atomically` writes a hidden file, then renames it over the target. Where a rename
    does not replace an existing file (HDFS), the old file is deleted first: a reader in
    between finds no file rather than a partial one.
    """

    def __init__(self, spark: "SparkSession", url: str) -> None:
        jvm = getattr(spark, "_jvm", None)
        if jvm is None:
            msg = f"{url}: reading through Hadoop needs a classic (non-Connect) SparkSession"
            raise ScorerError(msg)
        self._jvm: Any = jvm
        self._path_cls = self._jvm.org.apache.hadoop.fs.Path
        self._root = self._path_cls(url)
        self._fs = self._root.getFileSystem(spark._jsc.hadoopConfiguration())

    def _path(self, name: str):
        return self._path_cls(self._root, name) if name else self._root

    def exists(self, name: str) -> bool:
        return bool(self._fs.exists(self._path(name)))

    def list(self, name: str) -> list[str]:
        folder = self._path(name)
        if not self._fs.exists(folder):
            return []
        return [status.getPath().getName() for status in self._fs.listStatus(folder)]

    def read(self, name: str) -> str:
        from py4j.protocol import Py4JJavaError

        try:
            stream = self._fs.open(self._path(name))
            try:
                return self._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
            finally:
                stream.close()
        except Py4JJavaError as exc:  # a Java IOException, e.g. a checksum mismatch
            raise OSError(exc.java_exception.toString()) from exc

    def create(self, name: str, text: str, overwrite: bool = False) -> bool:
        from py4j.protocol import Py4JJavaError

        try:  # an exclusive create is one atomic step on HDFS
            stream = self._fs.create(self._path(name), overwrite)
        except Py4JJavaError as exc:
            if exc.java_exception.getClass().getSimpleName() == "FileAlreadyExistsException":
                return False
            raise OSError(exc.java_exception.toString()) from exc
        try:
            stream.write(text.encode())
        finally:
            stream.close()
        return True

    def delete(self, name: str) -> None:
        self._fs.delete(self._path(name), False)

    def write_atomically(self, name: str, text: str) -> None:
        target = self._path(name)
        tmp = self._path_cls(target.getParent(), f".{target.getName()}-{uuid.uuid4().hex}")
        stream = self._fs.create(tmp, True)
        try:
            stream.write(text.encode())
        finally:
            stream.close()
        if not self._fs.rename(tmp, target):
            self._fs.delete(target, False)
            if not self._fs.rename(tmp, target):
                msg = f"cannot replace {target.toString()} with {tmp.toString()}"
                raise ScorerError(msg)
