"""Why a Kafka client could not connect, in one line, in the same words for both clients.

`classify` maps the error objects the clients really produce to a cause: kafka-python's
exceptions (`SaslAuthenticationFailedError`, `UnsupportedSaslMechanismError`, and its
`KafkaConnectionError('Handshake failed: ...')` around Python's `ssl` errors), the `ssl`
errors themselves (`stream_scorer.kafka.tls_probe` raises them), and librdkafka's
`KafkaError` (`_AUTHENTICATION`, `_SSL`, `_TRANSPORT` with its text). An error that names
no cause (a refused connection, a timeout) gives None: the broker may still be starting.
Messages name the user and the mechanism, never the password.
"""

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stream_scorer.kafka.options import BOOTSTRAP_SERVERS

SECURITY_PROTOCOL = "kafka.security.protocol"
SASL_MECHANISM = "kafka.sasl.mechanism"
SASL_JAAS_CONFIG = "kafka.sasl.jaas.config"
TRUSTSTORE = "kafka.ssl.truststore.location"
TLS_PROTOCOLS = ("SSL", "SASL_SSL")
_KAFKA_PYTHON_SASL = "kafka.net.sasl."
_USER = re.compile(r'username\s*=\s*"([^"]*)"')
# OpenSSL verify codes of a certificate valid, but not for the host connected to.
_HOST_MISMATCH_CODES = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
# What a TLS client sees when the listener does not speak TLS: it closes, resets, answers in
# plaintext, or waits for a Kafka frame and never answers (librdkafka's setup timeout).
_NOT_TLS = (
    "wrong version number",
    "packet length too long",
    "record layer failure",
    "eof occurred in violation of protocol",
    "unexpected eof",
    "connection closed by peer",
    "connection reset",
    "timed out in state ssl_handshake",
    "plaintext broker listener",
)


@dataclass(frozen=True)
class Target:
    """Who connects where, for messages: `origin` is the options' key prefix."""

    servers: str
    origin: str
    subject: str = ""
    protocol: str = "PLAINTEXT"
    mechanism: str = "PLAIN"
    user: str = "?"

    @classmethod
    def of(cls, options: Mapping[str, str], origin: str, subject: str = "") -> "Target":
        """Read the servers, protocol, mechanism and user (never the password) of `options`."""
        user = _USER.search(options.get(SASL_JAAS_CONFIG, ""))
        return cls(
            servers=options.get(BOOTSTRAP_SERVERS, "?"),
            origin=origin,
            subject=subject,
            protocol=options.get(SECURITY_PROTOCOL, "PLAINTEXT").upper(),
            mechanism=options.get(SASL_MECHANISM, "PLAIN").upper(),
            user=user.group(1) if user else "?",
        )

    @property
    def uses_tls(self) -> bool:
        """True if the protocol is SSL or SASL_SSL."""
        return self.protocol in TLS_PROTOCOLS

    def unreachable(self, timeout_s: float, last: str | None = None) -> str:
        """The message for a broker that never answered within `timeout_s`."""
        seen = f" (last client error: {last})" if last else ""
        return (
            f"{self.subject}no Kafka broker answered at {self.servers} within {timeout_s:g}s"
            f"{seen} ({self.origin}.{BOOTSTRAP_SERVERS}): start the broker or fix the address; "
            "source.start_check_timeout_s sets the wait"
        )


def classify(error: Any, target: Target) -> str | None:
    """Return the one-line cause `error` names, or None if it names none (yet).

    `error` is a kafka-python exception, an `ssl` or socket error from a TLS handshake, or
    a confluent-kafka `KafkaError` (or the text of one of librdkafka's log lines). A
    kafka-python error raised while handling an `ssl` error is classified by that error.
    """
    from kafka import errors as kp  # here: importing kafka-python costs the CLI 0.6 s

    inner = (error.__cause__ or error.__context__) if isinstance(error, BaseException) else None
    if inner is not None:
        found = classify(inner, target)
        if found is not None:
            return found
    if isinstance(error, kp.SaslAuthenticationFailedError):
        return _auth_failed(target)
    if isinstance(error, kp.UnsupportedSaslMechanismError):
        return _mechanism(target)
    if isinstance(error, Exception) and _raised_in_sasl_exchange(error):
        return _auth_failed(target)  # e.g. a SCRAM reply `e=unknown-user` it cannot read
    if isinstance(error, ssl.SSLCertVerificationError):
        if error.verify_code in _HOST_MISMATCH_CODES:
            return _tls(target, "host name mismatch")
        return _tls(target, "certificate not trusted")
    if isinstance(error, ssl.SSLError | TimeoutError | ConnectionResetError):
        return _tls(target, "protocol mismatch") if target.uses_tls else None
    if isinstance(error, BaseException):
        return _from_text(str(error), None, target)
    if hasattr(error, "code") and hasattr(error, "str"):  # confluent_kafka.KafkaError
        return _from_text(error.str(), error.name(), target)
    return _from_text(str(error), None, target)


def _raised_in_sasl_exchange(error: Exception) -> bool:
    """True if kafka-python's SASL mechanism code raised `error`: the broker's reply to the
    login was not a success (kafka-python 3.0 raises KeyError('v') on a SCRAM error reply)."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_KAFKA_PYTHON_SASL):
            return True
        tb = tb.tb_next
    return False


def _from_text(text: str, code: str | None, target: Target) -> str | None:
    lowered = text.lower()
    if "unsupported sasl mechanism" in lowered or code == "UNSUPPORTED_SASL_MECHANISM":
        return _mechanism(target)
    if code in ("_AUTHENTICATION", "SASL_AUTHENTICATION_FAILED") or (
        "authentication failed" in lowered and "sasl" in lowered
    ):
        return _auth_failed(target)
    if "connecting to a ssl listener" in lowered:  # librdkafka: plaintext client, TLS listener
        return _tls(target, "protocol mismatch")
    tls_failed = code == "_SSL" or "handshake failed" in lowered or "ssl_handshake" in lowered
    if not (tls_failed and target.uses_tls):
        return None
    if "mismatch" in lowered:  # kafka-python: "Hostname mismatch", "IP address mismatch"
        return _tls(target, "host name mismatch")
    if "certificate verify failed" in lowered:
        return _tls(target, "certificate not trusted")
    if any(sign in lowered for sign in _NOT_TLS):
        return _tls(target, "protocol mismatch")
    return None


def _auth_failed(target: Target) -> str:
    return (
        f"{target.subject}authentication failed at {target.servers}: SASL {target.mechanism} "
        f"user '{target.user}' was refused ({target.origin}.{SASL_JAAS_CONFIG}): "
        "check the user name and the password"
    )


def _mechanism(target: Target) -> str:
    return (
        f"{target.subject}SASL mechanism {target.mechanism} is not enabled on the listener at "
        f"{target.servers} ({target.origin}.{SASL_MECHANISM}, {target.origin}."
        f"{SECURITY_PROTOCOL}={target.protocol}): use a mechanism the listener enables, or "
        "the security protocol it expects"
    )


_TLS_FIXES = {
    "certificate not trusted": (
        TRUSTSTORE,
        "point it at the CA certificate (PEM) that signed the broker's certificate",
    ),
    "host name mismatch": (
        BOOTSTRAP_SERVERS,
        "connect by a name the broker's certificate holds, or reissue the certificate",
    ),
    "protocol mismatch": (
        SECURITY_PROTOCOL,
        "the listener and the client disagree on TLS: use SSL or SASL_SSL for a TLS listener, "
        "PLAINTEXT or SASL_PLAINTEXT for a plaintext one",
    ),
}


def _tls(target: Target, why: str) -> str:
    key, fix = _TLS_FIXES[why]
    return (
        f"{target.subject}TLS handshake with {target.servers} failed: {why} "
        f"({target.origin}.{key}): {fix}"
    )
