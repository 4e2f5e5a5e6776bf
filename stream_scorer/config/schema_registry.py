"""Where Avro writer schemas come from: a Confluent Schema Registry."""

from pydantic import Field

from stream_scorer.config.base import Settings
from stream_scorer.kafka.options import REDACTED


class SchemaRegistryConfig(Settings):
    """A Confluent Schema Registry: the writer schema of each Avro value, by its schema id."""

    url: str = Field(min_length=1)
    """Registry URL, e.g. http://registry:8081 (several: comma-separated, tried in turn)."""
    basic_auth_user_info: str | None = None
    """`USER:PASSWORD` for HTTP basic auth, e.g. `${SR_USER_INFO}` from the environment."""
    max_retries: int = Field(default=3, ge=0)
    """Retries of a request the registry does not answer (or answers 408, 429, 5xx), waiting
    `retry_wait_ms` doubled each time (with jitter); then the batch fails and is replayed."""
    retry_wait_ms: int = Field(default=1000, ge=0)
    """First wait between retries, in milliseconds."""
    timeout_s: float = Field(default=10.0, gt=0)
    """Seconds one HTTP request may take."""

    def __repr_args__(self):  # never show the credentials in reprs, logs or errors
        yield "url", self.url
        yield "basic_auth_user_info", REDACTED if self.basic_auth_user_info else None
