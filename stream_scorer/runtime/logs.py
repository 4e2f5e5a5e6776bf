"""Log output a person can read: our lines on the console, Spark's and the clients' in a file.

The console shows the `stream_scorer` loggers only: start, the serving model, each batch,
reloads and errors. The Kafka clients' and py4j's Python loggers, and everything the Spark
JVM writes (log4j, the launcher's warnings, the Python workers' stderr), go to a log file;
`--verbose` shows them on the console instead.
"""

import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

from stream_scorer.files import is_local

OURS = "stream_scorer"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FILE = "scorer/scorer.log"
"""The default log file, under a local checkpoint directory."""
_TAG = "_stream_scorer_handler"

log = logging.getLogger(__name__)


class _OursOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == OURS or record.name.startswith(OURS + ".")


def configure_console(level: str = "INFO", verbose: bool = False) -> None:
    """Log to stderr: our loggers at `level`; with `verbose`, the clients' lines too (INFO+).

    Replaces the console handler an earlier call installed, so it may be called again.
    """
    handler = logging.StreamHandler(sys.stderr)
    if not verbose:
        handler.addFilter(_OursOnly())
    _install(handler)
    logging.getLogger(OURS).setLevel(level.upper())


def log_to_file(path: str | Path) -> Path:
    """Also write every log line (ours, the clients', py4j's) to `path`; return it, absolute.

    Raises
    ------
    OSError
        If the file's folder cannot be created or the file cannot be opened.
    """
    path = Path(path).absolute()
    path.parent.mkdir(parents=True, exist_ok=True)
    _install(logging.FileHandler(path))
    return path


def default_log_file(checkpoint: str, app_name: str) -> Path:
    """`<checkpoint>/scorer/scorer.log` for a local checkpoint, else a file in the temp dir."""
    if is_local(checkpoint):
        return Path(urlparse(checkpoint).path) / LOG_FILE
    return Path(tempfile.gettempdir()) / f"{app_name}.log"


@contextmanager
def stderr_to(path: Path | None) -> Iterator[None]:
    """Send this process's stderr (file descriptor 2) to `path` for the block; None: no-op.

    A child started in the block, such as the Spark JVM, keeps writing there for life.
    """
    if path is None:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as target:
        os.dup2(target.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def announce_start(checkpoint: str, log_file: Path | None) -> None:
    """Log, once per start, where state and Spark's logs are and that batch 0 is slower."""
    log.info("checkpoint %s", checkpoint)
    if log_file is not None:
        log.info("Spark and Kafka client logs: %s (--verbose shows them here)", log_file)
    log.info("the first batch also starts Spark's Python workers: expect it to be slower")


def _install(handler: logging.Handler) -> None:
    """Add `handler` to the root logger in place of one of its type we installed before."""
    handler.setFormatter(logging.Formatter(FORMAT))
    setattr(handler, _TAG, True)
    root = logging.getLogger()
    root.setLevel(logging.INFO)  # clients' INFO lines reach the file; the console filters
    for old in [h for h in root.handlers if getattr(h, _TAG, False)]:
        if type(old) is type(handler):
            root.removeHandler(old)
            if isinstance(old, logging.FileHandler):
                old.close()
    root.addHandler(handler)
