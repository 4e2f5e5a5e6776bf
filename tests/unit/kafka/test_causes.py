"""`classify`: both clients' real error objects map to one cause, in the same words.

Errors are built as the clients build them: kafka-python's exception classes (raised where
kafka-python raises them, for the SCRAM exchange and the TLS handshake), Python's `ssl`
errors with the attributes `_ssl` sets, and confluent-kafka's `KafkaError` with librdkafka's
codes and texts (tests/integration/test_secured_clusters.py produces most of them for real).
"""

import base64
import ssl

import confluent_kafka as ck
import pytest
from kafka import errors as kp
from kafka.net.sasl.scram import ScramClient

from stream_scorer.kafka.causes import Target, classify

SERVERS = "b1:9093"
SASL = Target.of(
    {
        "kafka.bootstrap.servers": SERVERS,
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-256",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
        'required username="alice" password="s3cr3t";',
    },
    "source.options",
)
PLAINTEXT = Target.of({"kafka.bootstrap.servers": SERVERS}, "sinks[1].options", "kafka sink 'o': ")

AUTH = (
    f"authentication failed at {SERVERS}: SASL SCRAM-SHA-256 user 'alice' was refused "
    "(source.options.kafka.sasl.jaas.config): check the user name and the password"
)
MECHANISM = (
    f"SASL mechanism SCRAM-SHA-256 is not enabled on the listener at {SERVERS} "
    "(source.options.kafka.sasl.mechanism, source.options.kafka.security.protocol=SASL_SSL): "
    "use a mechanism the listener enables, or the security protocol it expects"
)


def _tls(why: str, key: str, fix: str, target: Target = SASL) -> str:
    return (
        f"{target.subject}TLS handshake with {SERVERS} failed: {why} ({target.origin}.{key}): {fix}"
    )


NOT_TRUSTED = _tls(
    "certificate not trusted",
    "kafka.ssl.truststore.location",
    "point it at the CA certificate (PEM) that signed the broker's certificate",
)
HOST_MISMATCH = _tls(
    "host name mismatch",
    "kafka.bootstrap.servers",
    "connect by a name the broker's certificate holds, or reissue the certificate",
)
_MISMATCH_FIX = (
    "the listener and the client disagree on TLS: use SSL or SASL_SSL for a TLS listener, "
    "PLAINTEXT or SASL_PLAINTEXT for a plaintext one"
)
PROTOCOL = _tls("protocol mismatch", "kafka.security.protocol", _MISMATCH_FIX)


def _verify_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    error = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    error.verify_code, error.verify_message = code, message  # as _ssl sets them
    return error


def _as_kafka_python_handshake_failure(error: Exception) -> kp.KafkaConnectionError:
    """kafka-python 3.0 (net/manager.py) re-raises a TLS error this way."""
    try:
        raise error
    except Exception as exc:
        try:
            raise kp.KafkaConnectionError(f"Handshake failed: {exc}")
        except kp.KafkaConnectionError as wrapped:
            return wrapped


def _scram_error_reply() -> KeyError:
    """kafka-python's SCRAM client reading a server-final `e=unknown-user` (Tansu's reply)."""
    client = ScramClient("alice", "s3cr3t", "SCRAM-SHA-256")
    client.first_message()
    salt = base64.b64encode(b"salt").decode()
    client.process_server_first_message(f"r={client.nonce.decode()}x,s={salt},i=4096".encode())
    client.final_message()
    try:
        client.process_server_final_message(b"e=unknown-user")
    except KeyError as exc:
        return exc
    raise AssertionError("kafka-python read an error reply as a success")


KAFKA_PYTHON = {
    "wrong password": (
        kp.SaslAuthenticationFailedError(
            "Authentication failed during authentication due to invalid credentials with "
            "SASL mechanism SCRAM-SHA-256"
        ),
        AUTH,
    ),
    "SCRAM error reply": (_scram_error_reply(), AUTH),
    "mechanism": (kp.UnsupportedSaslMechanismError(), MECHANISM),
    "not trusted": (
        _as_kafka_python_handshake_failure(_verify_error(19, "self-signed certificate in chain")),
        NOT_TRUSTED,
    ),
    "host name": (
        _as_kafka_python_handshake_failure(
            _verify_error(64, "IP address mismatch, certificate is not valid for '10.0.0.1'.")
        ),
        HOST_MISMATCH,
    ),
    "plaintext answer": (
        ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
        PROTOCOL,
    ),
    "closed": (ssl.SSLEOFError(8, "EOF occurred in violation of protocol"), PROTOCOL),
    "silent": (TimeoutError("_ssl.c:983: The handshake operation timed out"), PROTOCOL),
    "refused": (kp.KafkaConnectionError("111 ECONNREFUSED"), None),
    "timeout": (kp.KafkaTimeoutError("Unable to bootstrap from b1:9093"), None),
}


@pytest.mark.parametrize("case", KAFKA_PYTHON)
def test_kafka_python_and_ssl_errors_map_to_their_cause(case):
    error, cause = KAFKA_PYTHON[case]
    assert classify(error, SASL) == cause


def _rd(code: int, text: str) -> ck.KafkaError:
    return ck.KafkaError(code, f"sasl_ssl://{SERVERS}/bootstrap: {text}")


LIBRDKAFKA = {
    "wrong password": (
        _rd(
            ck.KafkaError._AUTHENTICATION,
            "SASL authentication error: Authentication failed during authentication due to "
            "invalid credentials with SASL mechanism SCRAM-SHA-256 (after 5ms in state AUTH_REQ)",
        ),
        AUTH,
    ),
    "broker code": (_rd(ck.KafkaError.SASL_AUTHENTICATION_FAILED, "invalid credentials"), AUTH),
    "SCRAM error reply": (
        _rd(
            ck.KafkaError._AUTHENTICATION,
            "SASL authentication error: SASL SCRAM authentication failed: broker responded "
            "with unknown-user (after 98ms in state AUTH_REQ)",
        ),
        AUTH,
    ),
    "mechanism": (
        _rd(
            ck.KafkaError._AUTHENTICATION,
            "SASL SCRAM-SHA-256 mechanism handshake failed: Broker: Unsupported SASL mechanism: "
            "broker's supported mechanisms: PLAIN (after 0ms in state AUTH_HANDSHAKE)",
        ),
        MECHANISM,
    ),
    "not trusted": (
        _rd(
            ck.KafkaError._SSL,
            "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed: "
            "broker certificate could not be verified, verify that ssl.ca.location is correctly "
            "configured (after 6ms in state SSL_HANDSHAKE)",
        ),
        NOT_TRUSTED,
    ),
    "plaintext listener": (
        _rd(
            ck.KafkaError._SSL,
            "SSL handshake failed: Disconnected: connection closed by peer: receive 0 after "
            "POLLIN: connecting to a PLAINTEXT broker listener? (after 1ms in state SSL_HANDSHAKE)",
        ),
        PROTOCOL,
    ),
    "silent listener": (
        "FAIL [rdkafka#consumer-1] [thrd:ssl://b1:9093/bootstrap]: ssl://b1:9093/bootstrap: "
        "Connection setup timed out in state SSL_HANDSHAKE (after 30102ms in state SSL_HANDSHAKE)",
        PROTOCOL,
    ),
    "refused": (
        _rd(ck.KafkaError._TRANSPORT, "Connect to ipv4#10.0.0.1:9093 failed: Connection refused"),
        None,
    ),
    "all down": (ck.KafkaError(ck.KafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down"), None),
}


@pytest.mark.parametrize("case", LIBRDKAFKA)
def test_librdkafka_errors_map_to_their_cause(case):
    error, cause = LIBRDKAFKA[case]
    assert classify(error, SASL) == cause


def test_a_plaintext_client_on_a_tls_listener_is_a_protocol_mismatch():
    error = ck.KafkaError(
        ck.KafkaError._TRANSPORT,
        f"{SERVERS}/bootstrap: Disconnected while requesting ApiVersion: might be caused by "
        "incorrect security.protocol configuration (connecting to a SSL listener?) or broker "
        "version is < 0.10 (see api.version.request) (after 2ms in state APIVERSION_QUERY)",
    )
    assert classify(error, PLAINTEXT) == _tls(
        "protocol mismatch", "kafka.security.protocol", _MISMATCH_FIX, PLAINTEXT
    )


def test_a_reset_on_a_plaintext_connection_names_no_cause():
    assert classify(ConnectionResetError(104, "Connection reset by peer"), PLAINTEXT) is None


def test_the_target_names_the_user_never_the_password():
    assert (SASL.user, SASL.mechanism, SASL.protocol) == ("alice", "SCRAM-SHA-256", "SASL_SSL")
    assert "s3cr3t" not in repr(SASL)


def test_an_unreachable_broker_keeps_the_message_and_adds_the_last_client_error():
    assert PLAINTEXT.unreachable(10, "KeyError('v')") == (
        f"kafka sink 'o': no Kafka broker answered at {SERVERS} within 10s (last client error: "
        "KeyError('v')) (sinks[1].options.kafka.bootstrap.servers): start the broker or fix "
        "the address; source.start_check_timeout_s sets the wait"
    )
