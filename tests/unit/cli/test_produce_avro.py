"""`produce --format avro`: the wire format of confluent-kafka's AvroSerializer, registered
under the topic's value subject, which the Avro decoder reads back."""

import pytest

from stream_scorer.cli.main import main
from stream_scorer.config.schema_registry import SchemaRegistryConfig
from stream_scorer.devtools.avro_records import avro_values
from stream_scorer.features import avro_writers
from stream_scorer.features.avro import AvroDecoder
from stream_scorer.features.avro_writers import RegistryWriters
from tests.schema_registry_stub import SchemaRegistryStub


def test_avro_records_register_their_schema_and_decode_to_the_same_values():
    avro_writers._SCHEMAS.clear()  # a new registry's ids
    schema = {"f0": "double", "visits": "long", "city": "string"}
    with SchemaRegistryStub() as registry:
        values = list(avro_values(30, schema, "clicks", registry.url, bad_ratio=0.3, seed=1))
        writers = RegistryWriters(SchemaRegistryConfig(url=registry.url))
        decoded = AvroDecoder(writers, schema, {"id": "long"}).decode([v for v, _ in values])

    assert registry.subjects == {"clicks-value": [1]}
    good = [ok for _, ok in values]
    assert 0 < good.count(False) < 30
    assert [error is None for error in decoded.errors] == good
    assert all(value[:5] == b"\x00\x00\x00\x00\x01" for value, ok in values if ok)
    ids = decoded.passthrough["id"][good].tolist()
    assert ids == [i for i in range(30) if good[i]]


@pytest.mark.parametrize(
    "args",
    [["--format", "avro"], ["--schema-registry", "http://registry:8081"]],
)
def test_avro_and_a_registry_go_together(args, capsys):
    assert main(["produce", "--no-progress", *args]) == 2
    assert "--schema-registry URL goes with --format avro" in capsys.readouterr().err
