"""Per-Python-worker cache of loaded predictors, keyed by model identity (version + sha256).

Spark reuses Python workers across tasks, so a module-level cache lets a worker deserialise
each model version once, however many tasks and Arrow batches it scores. Like PySpark's
`predict_batch_udf` cache, but keyed by our model version instead of an object id.
"""

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence

from stream_scorer.contract.manifest import Manifest
from stream_scorer.distribution.base import Artefact
from stream_scorer.flavors.base import Predictor

log = logging.getLogger(__name__)

_models: OrderedDict[str, Predictor] = OrderedDict()
_lock = threading.Lock()
_loads = 0


def key_of(version: str, sha256: str) -> str:
    """The cache key of a model version: by content, not name alone, as two stores (or a
    store rebuilt) can both hold "v0001"."""
    return f"{version}@{sha256}"


def cached_predictor(
    version: str,
    artefact: Artefact,
    manifest: Manifest,
    trusted_types: Sequence[str],
    capacity: int,
    unsafe: bool = False,
) -> Predictor:
    """Return the predictor of `version` (a `key_of`), loading it from `artefact` on first use.

    Guarantees one deserialisation per (process, version) while the version stays among the
    `capacity` most recently used and its artefact `unchanged`; older versions are evicted
    (and freed). A version whose cached copy changed on disk since it was loaded is loaded
    again, from a copy verified again (fetched again if altered), before this task uses it.
    Thread-safe: concurrent callers of a version wait for its one load. Deserialising admits what
    `load_model_bytes` admits for `trusted_types` and `unsafe`.

    Raises
    ------
    ScorerError
        If the artefact cannot be fetched or deserialised (nothing is cached then).
    """
    global _loads
    with _lock:
        if version in _models:
            if artefact.unchanged():
                _models.move_to_end(version)
                return _models[version]
            log.warning("model %s: its cached copy changed on disk; verifying it again", version)
            del _models[version]
        predictor = artefact.load(manifest, trusted_types, unsafe)
        _loads += 1
        _models[version] = predictor
        while len(_models) > capacity:
            _models.popitem(last=False)
        return _models[version]


def discard(version: str) -> None:
    """Drop the predictor of `version` (a `key_of`) if held; a retired version's memory (or
    mapping) is freed once nothing else refers to it."""
    with _lock:
        _models.pop(version, None)


def load_count() -> int:
    """How many models this process has deserialised so far (a metric, and a test probe)."""
    return _loads


def cached_versions() -> list[str]:
    """Versions held by this process, least recently used first."""
    with _lock:
        return list(_models)
