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
broker), `MemoryError`, a model artefact that cannot be loaded on the worker, or a Schema
Registry that cannot be reached (it is asked while values are decoded), and was not
raised reading the source (a frame in `stream_scorer/sources/`: the one-pass scorer fetches
records inside the scoring code).

A Python worker that died in a task (Spark: "Python worker exited unexpectedly (crashed)":
a native crash such as a tree walking out of its arrays, a signal, the OOM killer) counts
too: only a newly switched version is ever refused for it (`ModelFallback`), after
`model.max_batch_attempts` attempts of the batch. Anything else (a broker or sink outage, a
lost executor) is not the model's fault.
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
WORKER_CRASHED = "Python worker exited unexpectedly (crashed)"
"""Spark's words for a Python worker that died in a task, in the failed job's message."""
SOURCE_FRAME = re.compile(r'File "[^"]*stream_scorer[/\\]sources[/\\]')
TRACEBACK = "Traceback (most recent call last):"
ENVIRONMENT = (OSError, MemoryError)
"""Built-in exceptions of the environment, subclasses included (ConnectionRefusedError...)."""
NOT_LOADED = "ModelRejectedError"
"""A model that does not load on a worker passed the driver's load: the worker differs."""
NOT_THE_MODELS = (NOT_LOADED, "SchemaRegistryUnavailableError")
"""Our own errors a worker raises that are the environment's."""
_RAISED = re.compile(r"^(?:[\w.]+\.)?(\w+)(?::|$)")


def model_fault(error: BaseException) -> str | None:
    """The worker's error line if the served model caused `error` (see the module), else None."""
    chain = list(_chain(error))
    for worker in (e for e in chain if isinstance(e, PythonException)):
        text = str(worker)
        scoring = SCORING_FRAME.search(text) or ARROW_CONVERSION.search(text)
        raised = _raised(text)
        reading = SOURCE_FRAME.search(text.rpartition(TRACEBACK)[2])
        if scoring and raised and not reading and not _environmental(raised[0]):
            return raised[1]
    if any(WORKER_CRASHED in str(e) for e in chain):
        return f"a Python worker died scoring the batch ({WORKER_CRASHED})"
    return None


def _environmental(name: str) -> bool:
    builtin = getattr(builtins, name, None)
    return name in NOT_THE_MODELS or (
        isinstance(builtin, type) and issubclass(builtin, ENVIRONMENT)
    )


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and what caused it, in turn, each once."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
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
