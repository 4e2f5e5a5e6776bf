"""The errors stream-scorer raises. All share `ScorerError`, so callers can catch one base."""


class ScorerError(Exception):
    """Base of every error stream-scorer raises on purpose."""


class ConfigError(ScorerError):
    """A configuration file or option is invalid; raised at start, before any record is read."""


class SourceError(ScorerError):
    """The Kafka source cannot go on (unreachable broker, lost data with failOnDataLoss...)."""


class ModelRejectedError(ScorerError):
    """A model version failed verification or validation and will not serve."""


class ModelStoreError(ScorerError):
    """The model store is missing, empty or unreadable."""


class DuplicateModelError(ModelStoreError):
    """A publish would store an artefact the store already holds (same sha256)."""


class SinkError(ScorerError):
    """A sink could not write a micro-batch."""


class CheckpointError(ScorerError):
    """The streaming checkpoint is missing or damaged; raised before any batch runs."""


class CheckpointInUseError(CheckpointError):
    """Another scorer holds the checkpoint; raised before this one starts its query."""


class MissingExtraError(ScorerError):
    """A command needs packages of an optional extra that is not installed."""


class BrokerError(ScorerError):
    """A Kafka broker could not be reached, or refused a request of a command."""


class ArtefactCacheError(ScorerError):
    """A model artefact could not be stored in a machine's cache directory (disk full, not
    writable); the version serving keeps serving and the store is read again later."""


class ModelErrorRateError(ModelRejectedError):
    """A newly switched model version failed too many rows of a batch (`model.max_error_rate`)."""


class SchemaRegistryUnavailableError(ScorerError):
    """The Schema Registry could not be reached or failed (connection refused, timeout, 5xx)
    after its client's retries: not the record's fault, so the batch fails and is replayed."""


class HistoryError(ScorerError):
    """The monitoring history is missing, empty or unreadable (`stream-scorer report`)."""
