"""Translates Spark-style `kafka.*` options (Java client names) into kafka-python settings.

`kafka.security.protocol` becomes `security_protocol`, `kafka.sasl.jaas.config` with a
PLAIN or SCRAM login module becomes `sasl_plain_username` / `sasl_plain_password`, and
numbers and booleans get the type kafka-python expects. A name kafka-python does not know
is refused with the key, so a typo never silently drops a security setting.
`confluent_config` does the same for librdkafka (confluent-kafka), which mostly shares the
Java names; librdkafka itself refuses the names it does not know when a client is built
(`confluent_producer` asks it at once, for the Kafka sinks' producers).
"""

import logging
import re
from collections.abc import Mapping
from typing import Any, Literal

from stream_scorer.errors import ConfigError
from stream_scorer.kafka.options import client_options

Role = Literal["consumer", "producer", "admin"]

# Java client names whose kafka-python spelling differs beyond '.' -> '_'.
_RENAMES = {
    "ssl.truststore.location": "ssl_cafile",  # PEM truststore (ssl.truststore.type=PEM)
    "ssl.keystore.location": "ssl_certfile",  # PEM keystore (ssl.keystore.type=PEM)
    "ssl.key.password": "ssl_password",
    "ssl.endpoint.identification.algorithm": "ssl_check_hostname",
}
# Java names with no kafka-python meaning that are safe to drop (types of PEM stores).
_IGNORED = {"ssl.truststore.type", "ssl.keystore.type"}
# Java client names whose librdkafka spelling differs (PEM stores, as for kafka-python).
_CONFLUENT_RENAMES = {
    "ssl.truststore.location": ("ssl.ca.location",),
    "ssl.keystore.location": ("ssl.certificate.location", "ssl.key.location"),
}
# acks=all as Kafka's Java producer since 3.0; librdkafka batches by its own defaults
# (linger.ms 5, batch.size 1 MB).
PRODUCER_DEFAULTS = {"acks": "all"}
# Settings that reach the cluster: checked by the sinks' start check, not by building a client.
_CONNECTION = ("bootstrap.servers", "security.protocol", "sasl.", "ssl.")
_JAAS = re.compile(r'(username|password)\s*=\s*"([^"]*)"')


def client_config(options: Mapping[str, str], role: Role) -> dict[str, Any]:
    """Return kafka-python keyword settings for a consumer, producer or admin client.

    Raises
    ------
    ConfigError
        If a `kafka.*` option has no kafka-python equivalent, or a value has the wrong type.
    """
    known = _known_settings(role)
    out: dict[str, Any] = {}
    for java_name, value in client_options(options).items():
        if java_name in _IGNORED:
            continue
        if java_name == "sasl.jaas.config":
            out.update(_jaas(value))
            continue
        name = _RENAMES.get(java_name, java_name.replace(".", "_"))
        if name not in known:
            msg = f"option 'kafka.{java_name}' has no equivalent in the kafka-python {role} client"
            raise ConfigError(msg)
        out[name] = _typed(f"kafka.{java_name}", value, known[name], name)
    return out


def confluent_config(options: Mapping[str, str]) -> dict[str, str]:
    """Return librdkafka (confluent-kafka) settings from Spark-style `kafka.*` options.

    Names are the Java client's, except PEM stores (`ssl.truststore.location` becomes
    `ssl.ca.location`; `ssl.keystore.location`, a PEM with certificate and key, becomes
    `ssl.certificate.location` and `ssl.key.location`) and `sasl.jaas.config`, whose PLAIN or
    SCRAM login module becomes `sasl.username` / `sasl.password`. An empty
    `ssl.endpoint.identification.algorithm` (Java: no host check) becomes `none`.

    Raises
    ------
    ConfigError
        If `sasl.jaas.config` has no username and password.
    """
    out: dict[str, str] = {}
    for java_name, value in client_options(options).items():
        if java_name in _IGNORED:
            continue
        if java_name == "sasl.jaas.config":
            found = _jaas(value)
            out["sasl.username"] = found["sasl_plain_username"]
            out["sasl.password"] = found["sasl_plain_password"]
        elif java_name == "ssl.endpoint.identification.algorithm":
            out[java_name] = value or "none"
        else:
            out.update(dict.fromkeys(_CONFLUENT_RENAMES.get(java_name, (java_name,)), value))
    return out


def confluent_producer(options: Mapping[str, str]) -> dict[str, str]:
    """Return librdkafka producer settings: `confluent_config` of `options` over
    `PRODUCER_DEFAULTS`, its other than connection settings checked by librdkafka itself.

    Raises
    ------
    ConfigError
        If librdkafka does not know a setting or refuses its value, naming it.
    """
    import confluent_kafka as ck

    config = {**PRODUCER_DEFAULTS, **confluent_config(options)}
    checked = {k: v for k, v in config.items() if not k.startswith(_CONNECTION)}
    quiet = logging.getLogger(f"{__name__}.check")
    quiet.propagate = False  # librdkafka warns that no servers are set: none are, on purpose
    try:
        ck.Producer({**checked, "logger": quiet})
    except ck.KafkaException as exc:
        msg = f"librdkafka refused a kafka.* producer option: {exc.args[0].str()}"
        raise ConfigError(msg) from None
    return config


def _known_settings(role: Role) -> dict[str, Any]:
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

    cls = {"consumer": KafkaConsumer, "producer": KafkaProducer, "admin": KafkaAdminClient}[role]
    return dict(cls.DEFAULT_CONFIG)


def _typed(key: str, value: str, default: Any, name: str) -> Any:
    if name == "ssl_check_hostname":  # Java: algorithm name ('https') or '' to disable
        return value.lower() not in ("", "false", "none")
    if name == "bootstrap_servers":
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(default, bool):
        if value.lower() not in ("true", "false"):
            msg = f"option '{key}': got {value!r}; expected true or false"
            raise ConfigError(msg)
        return value.lower() == "true"
    if name == "acks" and value == "all":
        return value
    if isinstance(default, int):
        try:
            return int(value)
        except ValueError:
            msg = f"option '{key}': got {value!r}; expected an integer"
            raise ConfigError(msg) from None
    return value


def _jaas(value: str) -> dict[str, str]:
    found = dict(_JAAS.findall(value))
    if not {"username", "password"} <= found.keys():
        msg = (
            "option 'kafka.sasl.jaas.config': expected a PLAIN or SCRAM login module "
            "with username and password"
        )
        raise ConfigError(msg)
    return {"sasl_plain_username": found["username"], "sasl_plain_password": found["password"]}
