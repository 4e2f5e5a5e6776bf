"""One confluent-kafka `SchemaRegistryClient` per process and registry, for decoders and sinks.

The client holds an HTTP session, so it is made where it is used (on the executors), never
pickled, and kept for the life of the Python worker.
"""

import threading
from typing import Any

_CLIENTS: dict[tuple[str, str | None], Any] = {}
_LOCK = threading.Lock()


def registry_client(
    url: str,
    basic_auth_user_info: str | None = None,
    max_retries: int = 3,
    retry_wait_ms: int = 1000,
    timeout_s: float = 10.0,
) -> Any:
    """This process's client of the registry at `url` (made on first use).

    It retries a request the registry does not answer, or answers 408, 429 or 5xx,
    `max_retries` times from `retry_wait_ms` doubling, then raises.
    """
    from confluent_kafka.schema_registry import SchemaRegistryClient

    key = (url, basic_auth_user_info)
    with _LOCK:
        if key not in _CLIENTS:
            settings: dict[str, Any] = {
                "url": url,
                "max.retries": max_retries,
                "retries.wait.ms": retry_wait_ms,
                "timeout": timeout_s,
            }
            if basic_auth_user_info:
                settings["basic.auth.user.info"] = basic_auth_user_info
            _CLIENTS[key] = SchemaRegistryClient(settings)
        return _CLIENTS[key]
