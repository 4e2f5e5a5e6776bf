"""Secured clusters: a client that cannot connect fails at start with the real cause, in one
line, in the same words for kafka-python and librdkafka, without waiting for the timeout.

What runs where (the embedded Tansu 0.6 cannot do everything):
- SASL against a listener without SASL (the session broker): both clients, for real.
- SCRAM login refused (a Tansu broker with `--authentication`, which has no users): both
  clients, for real.
- SSL against a plaintext listener (the session broker): the TLS probe and librdkafka, for
  real; kafka-python blocks in that handshake, which is why the TLS probe runs first.
- Certificate not trusted, host name mismatch: a TLS listener of the tests
  (`tests/tls_helpers.py`; Tansu's TLS flags cannot be used together), both clients.
- A wrong password on a broker that has users: not producible on Tansu; the mapping of
  kafka-python's `SaslAuthenticationFailedError` and librdkafka's `SASL_AUTHENTICATION_FAILED`
  is unit-tested (tests/unit/kafka/test_causes.py).
"""

import concurrent.futures
from collections.abc import Callable, Iterator

import pytest
import yaml

from stream_scorer.cli.main import main
from stream_scorer.config.settings import SourceConfig
from stream_scorer.config.sink_settings import KafkaSinkConfig
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.errors import ScorerError, SinkError, SourceError
from stream_scorer.kafka.causes import Target
from stream_scorer.kafka.client_config import confluent_config
from stream_scorer.kafka.reach import check_kafka_python, check_librdkafka
from stream_scorer.sinks import build_sink
from stream_scorer.sources.topic_check import check_source_topics
from tests.kafka_helpers import create_topic
from tests.scorer_helpers import NUMERIC, publish
from tests.scorer_process import write_config
from tests.tls_helpers import self_signed, tls_listener

pytestmark = pytest.mark.integration

WAIT_S = 60.0  # the start-check timeout: a check that waited it out would not return in time
RETURNS_WITHIN_S = 30.0

SCRAM = {
    "kafka.security.protocol": "SASL_PLAINTEXT",
    "kafka.sasl.mechanism": "SCRAM-SHA-256",
    "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule "
    'required username="alice" password="s3cr3t-never-shown";',
}
PLAIN = {
    **SCRAM,
    "kafka.sasl.mechanism": "PLAIN",
    "kafka.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule "
    'required username="alice" password="s3cr3t-never-shown";',
}


def _kafka_python(options: dict[str, str]) -> None:
    check_kafka_python(options, Target.of(options, "source.options"), WAIT_S, SourceError)


def _librdkafka(options: dict[str, str]) -> None:
    target = Target.of(options, "source.options")
    check_librdkafka(confluent_config(options), target, WAIT_S, SourceError)


CLIENTS = {"kafka-python": _kafka_python, "librdkafka": _librdkafka}


def _fails_at_once(check: Callable[[], object], error: type[ScorerError] = SourceError) -> str:
    """Run `check`; return its one-line error. It must fail well before the WAIT_S timeout."""
    pool = concurrent.futures.ThreadPoolExecutor(1)
    try:
        future = pool.submit(check)
        with pytest.raises(error) as err:
            future.result(timeout=RETURNS_WITHIN_S)
    finally:
        pool.shutdown(wait=False)
    message = str(err.value)
    assert "\n" not in message
    assert "s3cr3t" not in message
    return message


def _source(bootstrap: str, topic: str, client: str, extra: dict[str, str]) -> SourceConfig:
    options = {"kafka.bootstrap.servers": bootstrap, "subscribe": topic, **extra}
    return SourceConfig(options={**options, "kafkaClient": client}, start_check_timeout_s=WAIT_S)


@pytest.fixture(scope="module")
def auth_broker(tmp_path_factory) -> Iterator[str]:
    """A Tansu broker that requires SASL; it has no users, so every login is refused."""
    log = tmp_path_factory.mktemp("auth-broker") / "tansu.log"
    with EmbeddedBroker(log_path=log, authentication=True) as broker:
        yield broker.bootstrap_servers


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """Two self-signed certificates: one for 127.0.0.1, one for another host name only."""
    directory = tmp_path_factory.mktemp("certs")
    return {
        "local": self_signed(directory, "local", ["localhost", "127.0.0.1"]),
        "elsewhere": self_signed(directory, "elsewhere", ["broker.example"]),
    }


def _mechanism_message(servers: str, subject: str = "", origin: str = "source.options") -> str:
    return (
        f"{subject}SASL mechanism PLAIN is not enabled on the listener at {servers} "
        f"({origin}.kafka.sasl.mechanism, {origin}.kafka.security.protocol=SASL_PLAINTEXT): "
        "use a mechanism the listener enables, or the security protocol it expects"
    )


@pytest.mark.parametrize("client", CLIENTS)
def test_sasl_against_a_listener_without_sasl_names_the_mechanism(bootstrap, client):
    options = {"kafka.bootstrap.servers": bootstrap, **PLAIN}
    assert _fails_at_once(lambda: CLIENTS[client](options)) == _mechanism_message(bootstrap)


@pytest.mark.parametrize("client", CLIENTS)
def test_a_refused_scram_login_is_an_authentication_failure(auth_broker, client):
    options = {"kafka.bootstrap.servers": auth_broker, **SCRAM}
    assert _fails_at_once(lambda: CLIENTS[client](options)) == (
        f"authentication failed at {auth_broker}: SASL SCRAM-SHA-256 user 'alice' was refused "
        "(source.options.kafka.sasl.jaas.config): check the user name and the password"
    )


PROTOCOL_MISMATCH = (
    "TLS handshake with {servers} failed: protocol mismatch "
    "(source.options.kafka.security.protocol): the listener and the client disagree on TLS: "
    "use SSL or SASL_SSL for a TLS listener, PLAINTEXT or SASL_PLAINTEXT for a plaintext one"
)


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_ssl_against_a_plaintext_listener_is_a_protocol_mismatch(bootstrap, client):
    topic = create_topic(bootstrap, 1)
    source = _source(bootstrap, topic, client, {"kafka.security.protocol": "SSL"})
    message = _fails_at_once(lambda: check_source_topics(source))
    assert message == PROTOCOL_MISMATCH.format(servers=bootstrap)


def test_librdkafka_itself_reports_ssl_against_a_plaintext_listener(bootstrap):
    options = {"kafka.bootstrap.servers": bootstrap, "kafka.security.protocol": "SSL"}
    target = Target.of(options, "source.options")
    with pytest.raises(SourceError) as err:  # its handshake times out after the 3 s given
        check_librdkafka(confluent_config(options), target, 3.0, SourceError)
    assert str(err.value) == PROTOCOL_MISMATCH.format(servers=bootstrap)


NOT_TRUSTED = (
    "TLS handshake with {servers} failed: certificate not trusted "
    "(source.options.kafka.ssl.truststore.location): point it at the CA certificate (PEM) "
    "that signed the broker's certificate"
)
HOST_MISMATCH = (
    "TLS handshake with {servers} failed: host name mismatch "
    "(source.options.kafka.bootstrap.servers): connect by a name the broker's certificate "
    "holds, or reissue the certificate"
)


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_an_untrusted_certificate_is_named_at_start(certs, client):
    with tls_listener(*certs["local"]) as servers:
        source = _source(servers, "t", client, {"kafka.security.protocol": "SSL"})
        message = _fails_at_once(lambda: check_source_topics(source))
    assert message == NOT_TRUSTED.format(servers=servers)


@pytest.mark.parametrize("client", ["kafka-python", "confluent-kafka"])
def test_a_certificate_for_another_host_is_a_host_name_mismatch(certs, client):
    cert, _ = certs["elsewhere"]
    tls = {"kafka.security.protocol": "SSL", "kafka.ssl.truststore.location": str(cert)}
    with tls_listener(*certs["elsewhere"]) as servers:
        source = _source(servers, "t", client, tls)
        message = _fails_at_once(lambda: check_source_topics(source))
    assert message == HOST_MISMATCH.format(servers=servers)


def test_kafka_python_itself_names_the_tls_cause(certs):
    cert, _ = certs["elsewhere"]
    with tls_listener(*certs["local"]) as servers:
        untrusted = {"kafka.bootstrap.servers": servers, "kafka.security.protocol": "SSL"}
        assert _fails_at_once(lambda: _kafka_python(untrusted)) == NOT_TRUSTED.format(
            servers=servers
        )
    with tls_listener(*certs["elsewhere"]) as servers:
        elsewhere = {
            "kafka.bootstrap.servers": servers,
            "kafka.security.protocol": "SSL",
            "kafka.ssl.truststore.location": str(cert),
        }
        assert _fails_at_once(lambda: _kafka_python(elsewhere)) == HOST_MISMATCH.format(
            servers=servers
        )


def test_librdkafka_itself_names_an_untrusted_certificate(certs):
    """librdkafka says "certificate verify failed" for a wrong host name too: the TLS probe,
    which runs first, is what tells a host name mismatch apart for a confluent-kafka source."""
    with tls_listener(*certs["local"]) as servers:
        options = {"kafka.bootstrap.servers": servers, "kafka.security.protocol": "SSL"}
        assert _fails_at_once(lambda: _librdkafka(options)) == NOT_TRUSTED.format(servers=servers)


def test_a_kafka_sink_without_options_takes_the_source_security_and_fails_at_open(
    bootstrap, spark, tmp_path
):
    source = _source(bootstrap, "t", "kafka-python", PLAIN)
    sink = build_sink(KafkaSinkConfig(kind="kafka", topic="out"), str(tmp_path), source, "sinks[1]")

    message = _fails_at_once(lambda: sink.open(spark), SinkError)

    assert message == _mechanism_message(bootstrap, "kafka sink 'out': ")


def test_a_kafka_sink_naming_other_servers_takes_only_its_own_settings(bootstrap, spark, tmp_path):
    source = _source("127.0.0.1:1", "t", "kafka-python", PLAIN)  # unreachable, and SASL
    config = KafkaSinkConfig(
        kind="kafka", topic="out", options={"kafka.bootstrap.servers": bootstrap}
    )
    sink = build_sink(config, str(tmp_path), source, "sinks[1]")

    sink.open(spark)  # plaintext, as its own options say: the session broker answers

    assert not {"security.protocol", "sasl.mechanism", "sasl.username"} & sink._config.keys()


def test_run_exits_2_in_one_line_naming_the_sasl_mechanism(bootstrap, tmp_path, capsys):
    topic = create_topic(bootstrap, 1)
    path = write_config(tmp_path, bootstrap, topic)
    config = yaml.safe_load(path.read_text())
    config["source"]["options"].update(PLAIN)
    path.write_text(yaml.safe_dump(config))
    publish(tmp_path / "models", "binary", NUMERIC)

    assert main(["run", "--config", str(path), "--once"]) == 2

    err = capsys.readouterr().err
    assert err.endswith(f"error: {_mechanism_message(bootstrap)}\n")
    assert "s3cr3t" not in err


def test_run_exits_2_before_spark_when_a_kafka_sink_cannot_log_in(bootstrap, tmp_path, capsys):
    topic, out = create_topic(bootstrap, 1), create_topic(bootstrap, 1)
    path = write_config(tmp_path, bootstrap, topic, kafka_sink_topic=out)
    config = yaml.safe_load(path.read_text())
    config["sinks"][1]["options"] = {"kafka.bootstrap.servers": bootstrap, **PLAIN}
    path.write_text(yaml.safe_dump(config))
    publish(tmp_path / "models", "binary", NUMERIC)

    assert main(["run", "--config", str(path), "--once"]) == 2

    err = capsys.readouterr().err
    sink_origin = _mechanism_message(bootstrap, f"kafka sink '{out}': ", "sinks[1].options")
    assert err.endswith(f"error: {sink_origin}\n")
    assert not (tmp_path / "checkpoint" / "offsets").exists()
