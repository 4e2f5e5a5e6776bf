"""Tell a batch failure the served model caused from one of the infrastructure.

The rule is conservative: a failure counts as the model's only when a Python worker failed
(PySpark's `PythonException`, raised by the driver's action, possibly wrapped in a
`SinkError`) and the worker's traceback shows it failed

- inside the scoring code (`stream_scorer/scoring/`, `stream_scorer/flavors/`): shaping
  what the model returned, since whatever `predict` raises is set aside per row; or
- converting the scored pandas columns to Arrow (by Spark for the scoring UDF, or by the
  one-pass scorer, which reports it in Spark's words): the scorer runs no other pandas UDF
  (sources and the Kafka sink hand Arrow batches over as they are),

and the worker's exception is not one of the environment's: an `OSError` (disk, network,
broker), `MemoryError`, or a model artefact that cannot be loaded on the worker, and was not
raised reading the source (a frame in `stream_scorer/sources/`: the one-pass scorer fetches
records inside the scoring code). Anything else (a broker or sink outage, a lost executor, a
crashed worker) is not the model's fault.
"""

import builtins
import re
from collections.abc import Iterator

from pyspark.errors import PythonException

SCORING_FRAME = re.compile(r'File "[^"]*stream_scorer[/\\](scoring|flavors)[/\\]')
ARROW_CONVERSION = re.compile(
    r"PandasToArrowConversion|Failed to convert the value of the column|"
    r"Exception thrown when converting pandas\.Series"
)
SOURCE_FRAME = re.compile(r'File "[^"]*stream_scorer[/\\]sources[/\\]')
TRACEBACK = "Traceback (most recent call last):"
ENVIRONMENT = (OSError, MemoryError)
"""Built-in exceptions of the environment, subclasses included (ConnectionRefusedError...)."""
NOT_LOADED = "ModelRejectedError"
"""A model that does not load on a worker passed the driver's load: the worker differs."""
_RAISED = re.compile(r"^(?:[\w.]+\.)?(\w+)(?::|$)")


def model_fault(error: BaseException) -> str | None:
    """The worker's error line if the served model caused `error` (see the module), else None."""
    for worker in _worker_failures(error):
        text = str(worker)
        scoring = SCORING_FRAME.search(text) or ARROW_CONVERSION.search(text)
        raised = _raised(text)
        reading = SOURCE_FRAME.search(text.rpartition(TRACEBACK)[2])
        if scoring and raised and not reading and not _environmental(raised[0]):
            return raised[1]
    return None


def _environmental(name: str) -> bool:
    builtin = getattr(builtins, name, None)
    return name == NOT_LOADED or (isinstance(builtin, type) and issubclass(builtin, ENVIRONMENT))


def _worker_failures(error: BaseException) -> Iterator[PythonException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PythonException):
            yield current
        current = current.__cause__ or current.__context__


def _raised(text: str) -> tuple[str, str] | None:
    """(exception type, its line) of the last exception a traceback text shows, if any."""
    for line in reversed(text.strip().splitlines()):
        if line.startswith((" ", "\t")) or not line.strip():
            continue
        match = _RAISED.match(line)
        if match:
            return match.group(1), line.strip()
    return None
