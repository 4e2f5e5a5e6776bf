"""Per-Python-worker cache of deserialised models, keyed by model identity (version + sha256).

Spark reuses Python workers across tasks, so a module-level cache lets a worker deserialise
each model version once, however many tasks and Arrow batches it scores. Like PySpark's
`predict_batch_udf` cache, but keyed by our model version instead of an object id.
"""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from stream_scorer.models.formats import load_model_bytes
from stream_scorer.models.manifest import ModelFormat

_models: OrderedDict[str, Any] = OrderedDict()
_lock = threading.Lock()
_loads = 0


def cached_model(
    version: str,
    broadcast: Any,
    fmt: ModelFormat,
    trusted_types: Sequence[str],
    capacity: int,
    unsafe: bool = False,
) -> Any:
    """Return the estimator of `version`, deserialising `broadcast.value` on first use.

    Guarantees one deserialisation per (process, version) while the version stays among the
    `capacity` most recently used; older versions are evicted (and freed). Thread-safe:
    concurrent callers of a version wait for its one load. Deserialising admits what
    `load_model_bytes` admits for `trusted_types` and `unsafe`.

    Raises
    ------
    ModelRejectedError
        If the artefact cannot be deserialised (nothing is cached then).
    """
    global _loads
    with _lock:
        if version in _models:
            _models.move_to_end(version)
            return _models[version]
        model = load_model_bytes(broadcast.value, fmt, trusted_types, unsafe)
        _loads += 1
        _models[version] = model
        while len(_models) > capacity:
            _models.popitem(last=False)
        return model


def load_count() -> int:
    """How many models this process has deserialised so far (a metric, and a test probe)."""
    return _loads


def cached_versions() -> list[str]:
    """Versions held by this process, least recently used first."""
    with _lock:
        return list(_models)
