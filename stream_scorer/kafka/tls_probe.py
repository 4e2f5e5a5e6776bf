"""One TLS handshake with a bootstrap server, with the source's (or sink's) `kafka.ssl.*`.

Both clients give a TLS failure away poorly: kafka-python 3.0 blocks in a handshake with a
listener that never answers it (a plaintext listener waiting for a Kafka frame), and
librdkafka says "certificate verify failed" whether the CA or the host name is wrong. This
probe runs the handshake itself, with Python's `ssl` (kafka-python's own TLS layer) and the
same truststore, key store and host check, so `stream_scorer.kafka.causes.classify` can name
the cause. It sends no Kafka request.
"""

import socket
import ssl
import time
from collections.abc import Mapping

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import BOOTSTRAP_SERVERS

_HOST_CHECK = "kafka.ssl.endpoint.identification.algorithm"
_HANDSHAKE_S = 5.0
_TRUSTSTORE = "kafka.ssl.truststore.location"
_KEYSTORE = "kafka.ssl.keystore.location"
_KEY_PASSWORD = "kafka.ssl.key.password"


def tls_handshake_error(options: Mapping[str, str], timeout_s: float) -> BaseException | None:
    """Return the error of a TLS handshake with the first bootstrap server that accepts a TCP
    connection, or None if the handshake succeeds or no server accepts one.

    A listener that accepts the connection but does not answer the handshake within
    `timeout_s` (at most 5 s: a TLS listener answers at once) gives a `TimeoutError`.

    Raises
    ------
    ConfigError
        If a server accepts the connection and the truststore or key store cannot be read.
    """
    deadline = time.monotonic() + timeout_s
    for server in options.get(BOOTSTRAP_SERVERS, "").split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s)
        except (OSError, ValueError):
            continue  # refused or unresolvable: the clients report an unreachable broker
        try:
            context = _context(options)
            sock.settimeout(min(_HANDSHAKE_S, max(0.1, deadline - time.monotonic())))
            with context.wrap_socket(sock, server_hostname=host.strip("[]")):
                return None
        except (OSError, ssl.SSLError) as exc:  # socket.timeout is a TimeoutError
            return exc
        finally:
            sock.close()
    return None


def _context(options: Mapping[str, str]) -> ssl.SSLContext:
    key = _TRUSTSTORE
    try:
        context = ssl.create_default_context(cafile=options.get(key))
        context.check_hostname = options.get(_HOST_CHECK, "https").lower() not in ("", "none")
        key = _KEYSTORE
        if options.get(key):
            context.load_cert_chain(options[key], password=options.get(_KEY_PASSWORD))
    except (OSError, ssl.SSLError) as exc:
        msg = f"option '{key}': cannot read {options.get(key)!r} as PEM: {exc}"
        raise ConfigError(msg) from None
    return context
