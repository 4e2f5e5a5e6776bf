"""Driver-side hot reload: which model version serves the next micro-batch.

Called once per micro-batch on the driver, before scoring. A version the source's pointer
(CURRENT, an MLflow alias) newly names is loaded, verified and distributed
(`distribution.factory`: broadcast, or for a big model of our store a copy on every machine);
a refused one is logged and the previous model keeps serving.
"""

import logging
from collections.abc import Iterable, Mapping

from pyspark.sql import SparkSession

from stream_scorer.config.model_settings import ModelConfig
from stream_scorer.distribution.factory import distribute
from stream_scorer.errors import (
    ArtefactCacheError,
    ModelRejectedError,
    ModelStoreError,
    ScorerError,
)
from stream_scorer.serving.model import ServingModel
from stream_scorer.types import FieldType
from stream_scorer.versions.sources.base import ModelSource
from stream_scorer.versions.sources.factory import open_source
from stream_scorer.versions.verify import Fetch, VerifiedModel, load_verified

log = logging.getLogger(__name__)


class ModelRegistry:
    """Tracks the pointer of a model source and keeps one verified version serving.

    `source` defaults to the config's (`open_source`); `role` names the model in logs
    ('model', 'shadow model'); `input_signature` is what the config feeds a model
    (`FeaturesConfig.input_signature`). Counters: `reloads` (versions loaded and
    distributed, the first included), `refusals` (versions refused, failed reads of the
    pointer or of the artefact by executors, and the pointer gone once a model serves),
    `cache_failures` (big versions a machine could not copy into its cache directory, e.g.
    disk full; tried again at the next refresh), `fallbacks` (versions refused by
    `fall_back`, also counted in `refusals`), `last_error` (latest reason, or None).
    """

    def __init__(
        self,
        config: ModelConfig,
        feature_types: Mapping[str, FieldType],
        spark: SparkSession,
        source: ModelSource | None = None,
        role: str = "model",
        input_signature: str = "json",
    ) -> None:
        self.source = source or open_source(config, dict(feature_types))
        self.role = role
        self._input_signature = input_signature
        self._config = config
        self._feature_types = dict(feature_types)
        self._spark = spark
        self._serving: ServingModel | None = None
        self._retired: list[ServingModel] = []
        self._refused: set[tuple[str, str | None]] = set()
        self._restored: str | None = None
        self.reloads = 0
        self.refusals = 0
        self.cache_failures = 0
        self.fallbacks = 0
        self.last_error: str | None = None

    @property
    def serving_version(self) -> str | None:
        """The version serving now, or None before the first successful refresh."""
        return self._serving.version if self._serving else None

    def refresh(self) -> ServingModel:
        """Return the model for the next micro-batch, as `poll` does.

        Raises
        ------
        ModelStoreError
            Only when no model serves yet and none can be loaded.
        """
        serving = self.poll()
        if serving is None:
            msg = f"no model to serve in {self.source.location} (last error: {self.last_error})"
            raise ModelStoreError(msg)
        return serving

    def poll(self) -> ServingModel | None:
        """Return the model for the next micro-batch, switching if the pointer names a new one;
        None while no version could serve yet. Never raises for a source or model fault.

        Cheap when nothing changed (one small file read or registry call). A version refused
        once (same version, same artefact sha256) is not retried.
        """
        try:
            version = self.source.current_version()
        except ModelStoreError as exc:
            self.refusals += 1
            return self._keep_serving(str(exc))
        if version is None:
            if self._serving is not None:  # the pointer vanished: store moved, alias deleted
                self.refusals += 1
            return self._keep_serving(self.source.unset)
        if self._serving is not None and version == self._serving.version:
            return self._verified_again(self._serving)
        key = (version, self._fingerprint(version))
        if key in self._refused:
            if self._serving is not None or self._restored is None:
                return self._keep_serving(None)
            version = self._restored  # the pointer names a version an earlier run refused
            key = (version, self._fingerprint(version))
        try:
            return self._switch_to(version)
        except ModelRejectedError as exc:
            self._refused.add(key)
            self.refusals += 1
            return self._keep_serving(str(exc))
        except ArtefactCacheError as exc:
            self.cache_failures += 1
            return self._keep_serving(str(exc))
        except ModelStoreError as exc:  # executors cannot read the store: retried next time
            self.refusals += 1
            return self._keep_serving(str(exc))

    def _verified_again(self, serving: ServingModel) -> ServingModel:
        """`serving`, its copy on this machine checked first: one altered on disk since it was
        verified is counted in `cache_failures`, logged, and hashed and fetched again."""
        if serving.artefact.unchanged():
            return serving
        self.cache_failures += 1
        log.warning(
            "%s %s: its cached copy changed on disk; fetching it again", self.role, serving.version
        )
        try:
            serving.artefact.reverify()
        except ScorerError as exc:
            log.error(
                "%s %s: cannot verify its cached copy again: %s", self.role, serving.version, exc
            )
        return serving

    @property
    def serving(self) -> ServingModel | None:
        """The version serving now, or None before the first successful refresh."""
        return self._serving

    def restore(self, refused: Iterable[tuple[str, str | None]], last_served: str | None) -> None:
        """Refuse again the (version, sha256) pairs an earlier run refused; while the pointer
        names one of them and nothing serves yet, serve `last_served`. Call before `refresh`."""
        self._refused.update(refused)
        self._restored = last_served

    def fall_back(self, version: str, reason: str) -> ServingModel:
        """Refuse the serving version for `reason` and serve `version` again, at once.

        The refused version is not retried until the pointer names another version or its
        artefact changes. `version` reuses its artefact if this registry replaced it and
        has not released it yet; otherwise it is loaded and verified again.

        Raises
        ------
        ModelRejectedError
            If `version` cannot be loaded any more; the serving version then stays.
        """
        failed = self._serving
        if failed is None:
            msg = f"{self.role}: nothing serves, so there is nothing to fall back from"
            raise ModelRejectedError(msg)
        kept = next((m for m in self._retired if m.version == version), None)
        if kept is None:
            serving = self._switch_to(version)
        else:
            self._retired.remove(kept)
            self._retired.append(failed)
            self._serving = serving = kept
            log.info("%s %s now serving again (was %s)", self.role, version, failed.version)
        self._refused.add((failed.version, self._fingerprint(failed.version)))
        self.refusals += 1
        self.fallbacks += 1
        self.last_error = reason
        return serving

    def release_retired(self, also_serving: ServingModel | None = None) -> None:
        """Release the artefacts of replaced versions (broadcasts unpersisted, cache files and
        workers' predictors dropped); call after a batch's sinks wrote.

        A retired artefact whose copy the version serving now, or `also_serving` (the other
        registry's: served model and shadow), still uses is left to that one's release.
        """
        serving = [s.artefact for s in (self._serving, also_serving) if s is not None]
        for retired in self._retired:
            if not any(retired.artefact.shares_copy_with(other) for other in serving):
                retired.artefact.release(self._spark)
        self._retired.clear()

    def _switch_to(self, version: str) -> ServingModel:
        def verify(fetch: Fetch | None) -> VerifiedModel:
            return load_verified(
                self.source,
                version,
                self._feature_types,
                allow_library_mismatch=self._config.allow_library_mismatch,
                trusted_types=self._config.trusted_types,
                unsafe_load=self._config.unsafe_load,
                input_signature=self._input_signature,
                check_signature=self.source.signed,
                fetch=fetch,
                route_by=self._config.route_by,
            )

        verified, artefact = distribute(self._spark, self.source, version, self._config, verify)
        serving = ServingModel(
            version=version,
            manifest=verified.manifest,
            artefact=artefact,
            trusted_types=tuple(self._config.trusted_types),
            unsafe_load=self._config.unsafe_load,
            route_by=self._config.route_by,
        )
        previous = self._serving
        was = previous.version if previous else "none"
        log.info("%s %s now serving (was %s)", self.role, version, was)
        if previous is not None:
            self._retired.append(previous)
        self._serving = serving
        self.reloads += 1
        return serving

    def _fingerprint(self, version: str) -> str | None:
        try:
            return self.source.manifest(version).sha256
        except ScorerError:
            return None

    def _keep_serving(self, error: str | None) -> ServingModel | None:
        """Log a new `error` (None: already reported), then return the serving model."""
        if error is not None and error != self.last_error:
            self.last_error = error
            serving = self._serving.version if self._serving else "nothing"
            log.error("%s not switched, %s keeps serving: %s", self.role, serving, error)
        return self._serving
