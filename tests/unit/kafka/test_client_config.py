"""Spark-style `kafka.*` options translated for librdkafka (confluent-kafka)."""

import pytest

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.client_config import confluent_config


def test_java_names_pass_through_without_prefix():
    got = confluent_config(
        {"kafka.bootstrap.servers": "h:9092", "kafka.security.protocol": "SASL_SSL", "x": "y"}
    )
    assert got == {"bootstrap.servers": "h:9092", "security.protocol": "SASL_SSL"}


def test_jaas_login_module_becomes_username_and_password():
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="alice" password="s3cret";'
    )
    got = confluent_config(
        {"kafka.sasl.jaas.config": jaas, "kafka.sasl.mechanism": "SCRAM-SHA-512"}
    )
    assert got == {
        "sasl.username": "alice",
        "sasl.password": "s3cret",
        "sasl.mechanism": "SCRAM-SHA-512",
    }


def test_jaas_without_credentials_is_refused():
    with pytest.raises(ConfigError, match=r"kafka\.sasl\.jaas\.config"):
        confluent_config({"kafka.sasl.jaas.config": "SomeLoginModule required;"})


def test_pem_stores_become_librdkafka_locations_and_types_are_dropped():
    got = confluent_config(
        {
            "kafka.ssl.truststore.location": "/ca.pem",
            "kafka.ssl.truststore.type": "PEM",
            "kafka.ssl.keystore.location": "/client.pem",
            "kafka.ssl.key.password": "pw",
        }
    )
    assert got == {
        "ssl.ca.location": "/ca.pem",
        "ssl.certificate.location": "/client.pem",
        "ssl.key.location": "/client.pem",
        "ssl.key.password": "pw",
    }


def test_empty_endpoint_identification_disables_the_host_check():
    got = confluent_config({"kafka.ssl.endpoint.identification.algorithm": ""})
    assert got == {"ssl.endpoint.identification.algorithm": "none"}
