"""Paths in a config file: relative ones resolve against the file's folder, as most tools do.

A scorer started from another folder then finds the same checkpoint, model store and
outputs, instead of quietly starting a new checkpoint from `startingOffsets`. URLs with a
scheme (hdfs://, s3a://, file:) are left as written. A config given as a mapping rather
than a file (`parse_config`) has no folder: its relative paths stay relative to the
working directory.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

from pydantic import AfterValidator, ValidationInfo

BASE_DIR = "base_dir"
"""The validation context key holding the folder relative paths resolve against."""


def has_scheme(path: str) -> bool:
    """True for a URL such as `hdfs://nn/x` or `file:/x` (a one-letter scheme is a drive)."""
    return len(urlparse(path).scheme) > 1


def command_line_path(path: str) -> str:
    """A path given as a command-line argument (`model train --data`): a relative one is
    relative to the working directory, as for any command, not to the config file's folder;
    it is made absolute so Spark, whose default file system may be a cluster's, reads the
    local file. URLs are left as written."""
    if has_scheme(path):
        return path
    return os.path.abspath(Path(path).expanduser())


def _resolve(path: str, info: ValidationInfo) -> str:
    if not path.strip():
        msg = "a non-empty path"
        raise ValueError(msg)
    base = (info.context or {}).get(BASE_DIR)
    if base is None or has_scheme(path):
        return path
    return os.path.normpath(Path(base) / Path(path).expanduser())


def _local(why: str) -> Callable[[str], str]:
    def check(path: str) -> str:
        if has_scheme(path):
            msg = f"a local directory; {why}"
            raise ValueError(msg)
        return path

    return check


Location = Annotated[str, AfterValidator(_resolve)]
"""A local path (resolved against the config file's folder) or a Hadoop URL."""
LocalPath = Annotated[
    str, AfterValidator(_resolve), AfterValidator(_local("a file the driver reads"))
]
"""A local path, resolved against the config file's folder."""
TableDir = Annotated[
    str,
    AfterValidator(_resolve),
    AfterValidator(_local("the scoring tasks write a table's files on the local filesystem")),
]
"""A table's local directory, resolved against the config file's folder."""
MachineDir = Annotated[
    str,
    AfterValidator(_resolve),
    AfterValidator(_local("it is a folder on each machine, the driver's and every executor's")),
]
"""A local directory used on every machine at the same path; a relative one is resolved
against the config file's folder once, on the driver, and the executors get that path."""
