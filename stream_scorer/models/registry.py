"""Driver-side hot reload: which model version serves the next micro-batch.

Called once per micro-batch on the driver, before scoring. A new CURRENT is loaded,
verified and broadcast; a refused one is logged and the previous model keeps serving.
Executors only ever see the broadcast artefact bytes, never a driver-local path.
"""

import logging
from collections.abc import Mapping

from pyspark.sql import SparkSession

from stream_scorer.config.settings import ModelConfig
from stream_scorer.errors import ModelRejectedError, ModelStoreError
from stream_scorer.models.serving import ServingModel
from stream_scorer.models.store import ModelStore
from stream_scorer.models.verify import load_verified

log = logging.getLogger(__name__)


class ModelRegistry:
    """Tracks CURRENT of a model store and keeps one verified version serving.

    Counters: `reloads` (versions loaded and broadcast, the first included), `refusals`
    (versions refused, failed reads of CURRENT, and CURRENT gone once a model serves),
    `last_error` (latest reason, or None).
    """

    def __init__(
        self,
        config: ModelConfig,
        feature_types: Mapping[str, str],
        spark: SparkSession,
        input_signature: str = "json",
    ) -> None:
        self.store = ModelStore(config.store)
        self._input_signature = input_signature
        self._config = config
        self._feature_types = dict(feature_types)
        self._spark = spark
        self._serving: ServingModel | None = None
        self._retired: list[ServingModel] = []
        self._refused: set[tuple[str, str | None]] = set()
        self.reloads = 0
        self.refusals = 0
        self.last_error: str | None = None

    @property
    def serving_version(self) -> str | None:
        """The version serving now, or None before the first successful refresh."""
        return self._serving.version if self._serving else None

    def refresh(self) -> ServingModel:
        """Return the model for the next micro-batch, switching if CURRENT names a new one.

        Cheap when nothing changed (one small file read). A version refused once (same
        version, same artefact sha256) is not retried.

        Raises
        ------
        ModelStoreError
            Only when no model serves yet and none can be loaded.
        """
        try:
            version = self.store.current_version()
        except ModelStoreError as exc:
            self.refusals += 1
            return self._keep_serving(str(exc))
        if version is None:
            if self._serving is not None:  # CURRENT vanished: the store moved or is unmounted
                self.refusals += 1
            return self._keep_serving(f"{self.store.root}: CURRENT is not set")
        if self._serving is not None and version == self._serving.version:
            return self._serving
        key = (version, self._fingerprint(version))
        if key in self._refused:
            return self._keep_serving(None)
        try:
            return self._switch_to(version)
        except ModelRejectedError as exc:
            self._refused.add(key)
            self.refusals += 1
            return self._keep_serving(str(exc))

    def release_retired(self) -> None:
        """Unpersist the broadcasts of replaced versions; call after a batch's sinks wrote."""
        for retired in self._retired:
            retired.broadcast.unpersist(blocking=False)
        self._retired.clear()

    def _switch_to(self, version: str) -> ServingModel:
        verified = load_verified(
            self.store,
            version,
            self._feature_types,
            allow_library_mismatch=self._config.allow_library_mismatch,
            trusted_types=self._config.trusted_types,
            unsafe_load=self._config.unsafe_load,
            input_signature=self._input_signature,
            route_by=self._config.route_by,
        )
        serving = ServingModel(
            version=version,
            manifest=verified.manifest,
            broadcast=self._spark.sparkContext.broadcast(verified.payload),
            trusted_types=tuple(self._config.trusted_types),
            unsafe_load=self._config.unsafe_load,
            route_by=self._config.route_by,
        )
        previous = self._serving
        log.info("model %s now serving (was %s)", version, previous.version if previous else "none")
        if previous is not None:
            self._retired.append(previous)
        self._serving = serving
        self.reloads += 1
        return serving

    def _fingerprint(self, version: str) -> str | None:
        try:
            return self.store.manifest(version).sha256
        except ModelStoreError:
            return None

    def _keep_serving(self, error: str | None) -> ServingModel:
        """Log a new `error` (None: already reported), then return the serving model."""
        if error is not None and error != self.last_error:
            self.last_error = error
            serving = self._serving.version if self._serving else "nothing"
            log.error("model not switched, %s keeps serving: %s", serving, error)
        if self._serving is None:
            msg = (
                f"no model to serve in {self.store.root}: publish one with "
                f"`stream-scorer model publish` (last error: {self.last_error})"
            )
            raise ModelStoreError(msg)
        return self._serving
