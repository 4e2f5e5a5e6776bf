"""Avro (Confluent wire format, Schema Registry) against JSON, the same records, one run.

The same N records (`id` + 8 double features, 4 partitions) are loaded twice: as JSON and as
Avro written by confluent-kafka's `AvroSerializer` against the registry stand-in of the tests
(`tests/schema_registry_stub.py`). For `--rounds` rounds, alternating which goes first:

- **decode stage**: `JsonDecoder` and `AvroDecoder` (registry writer schemas, cached) on one
  Arrow-batch-sized list of 10k values, best of 5, in this process: the part that differs;
  also Avro whose features are `["null", "double"]` (*avro nullable*), both read as numpy
  columns, and Avro with an array of strings more (*avro array*), which fastavro reads
  record by record. `--stage-only` skips the end-to-end runs.
- **end to end**: `python -m stream_scorer run --once` as a fresh process into Parquet, with
  `maxOffsetsPerTrigger` (default 200k); *steady* is the rows over the summed
  `batch_duration_ms` of batches 1 onwards (batch 0 pays the Python workers' start-up).

Prints each figure, then medians and the Avro/JSON ratios with the load average; writes
`bench/results/avro_json.json`. Run:
`.venv/bin/python -m bench.avro_json --records 1000000 --rounds 3`.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import orjson
import yaml
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from bench.e2e import load
from bench.one_pass import FEATURES, N_FEATURES, scorer_run, steady_rate
from stream_scorer.config.schema_registry import SchemaRegistryConfig
from stream_scorer.devtools.avro_records import record_schema
from stream_scorer.devtools.broker import EmbeddedBroker
from stream_scorer.devtools.demo_models import save_model, train_demo_model
from stream_scorer.features.avro import AvroDecoder
from stream_scorer.features.avro_writers import RegistryWriters
from stream_scorer.features.json_parser import JsonDecoder
from stream_scorer.testing.scorer_setup import raw_config
from stream_scorer.versions.publish import publish_sklearn
from stream_scorer.versions.store import ModelStore
from tests.schema_registry_stub import SchemaRegistryStub

RESULTS = Path(__file__).parent / "results" / "avro_json.json"
STAGE_ROWS = 10_000


def avro_encoder(registry_url: str, topic: str, variant: str = "plain"):
    """`record -> wire-format bytes` with confluent-kafka's AvroSerializer. `variant`:
    `plain`, `nullable` (the features are `["null", "double"]`), or `array` (an array of
    strings `tags` too, which only fastavro reads)."""
    client = SchemaRegistryClient({"url": registry_url})
    schema = record_schema(FEATURES)
    if variant == "nullable":
        for field in schema["fields"][1:]:
            field["type"] = ["null", field["type"]]
    if variant == "array":
        schema["fields"].append({"name": "tags", "type": {"type": "array", "items": "string"}})
    serialize = AvroSerializer(client, json.dumps(schema))
    context = SerializationContext(topic, MessageField.VALUE)
    return lambda record: serialize(record, context)


def stage_rate(decoder, values: list[bytes]) -> float:
    """Values per second of one decoder over `values`, best of 5."""
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        decoder.decode(values)
        best = min(best, time.perf_counter() - began)
    return len(values) / best


def write_config(root: Path, name: str, bootstrap: str, topic: str, budget: int, features: dict):
    """A run-once config reading `topic` with `features` into Parquet under `root/name`."""
    raw = raw_config(root / name, bootstrap, topic, FEATURES, model={"store": str(root / "models")})
    raw["source"]["options"]["maxOffsetsPerTrigger"] = str(budget)
    raw["features"] = features
    path = root / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=200_000, help="maxOffsetsPerTrigger")
    parser.add_argument("--stage-only", action="store_true", help="the decode stage only")
    args = parser.parse_args()
    tree = Path(__file__).resolve().parents[1]
    figures: dict[str, list[float]] = {}
    with (
        EmbeddedBroker() as broker,
        SchemaRegistryStub() as registry,
        tempfile.TemporaryDirectory() as tmp,
    ):
        root, bootstrap = Path(tmp), broker.bootstrap_servers
        encode = avro_encoder(registry.url, "avro")
        if not args.stage_only:
            load(bootstrap, "json", args.records, features=N_FEATURES)
            load(bootstrap, "avro", args.records, features=N_FEATURES, encode=encode)
        model = save_model(train_demo_model("binary", n_features=N_FEATURES), root / "lr.joblib")
        publish_sklearn(ModelStore(root / "models"), model, FEATURES)
        base = {"schema": FEATURES, "passthrough": {"id": "long"}}
        avro = {**base, "format": "avro", "schema_registry": {"url": registry.url}}
        formats = {"json": base, "avro": avro}
        records = [{"id": i, **{f"f{j}": (i % 997) * 0.01 - j for j in range(N_FEATURES)}}
                   for i in range(STAGE_ROWS)]  # fmt: skip
        nullable = avro_encoder(registry.url, "avro-nullable", "nullable")
        tagged = avro_encoder(registry.url, "avro-array", "array")
        values = {
            "json": [orjson.dumps(r) for r in records],
            "avro": [encode(r) for r in records],
            "avro nullable": [nullable(r) for r in records],
            "avro array": [tagged({**r, "tags": [f"t{r['id'] % 7}"]}) for r in records],
        }
        writers = RegistryWriters(SchemaRegistryConfig(url=registry.url))
        decoders = {
            "json": JsonDecoder(FEATURES, {"id": "long"}),
            "avro": AvroDecoder(writers, FEATURES, {"id": "long"}),
            "avro nullable": AvroDecoder(writers, FEATURES, {"id": "long"}),
            "avro array": AvroDecoder(writers, FEATURES, {"id": "long"}),
        }
        for rnd in range(args.rounds):
            staged = list(decoders) if rnd % 2 == 0 else list(reversed(decoders))
            for name in staged:
                rate = stage_rate(decoders[name], values[name])
                figures.setdefault(f"{name} decode stage", []).append(rate)
                print(f"round {rnd} {name} decode stage {rate:,.0f} values/s", flush=True)
            order = [] if args.stage_only else [n for n in staged if n in formats]
            for name in order:
                path = write_config(
                    root, f"{name}-{rnd}", bootstrap, name, args.budget, formats[name]
                )
                seconds, batches = scorer_run(tree, path)
                steady = steady_rate(batches) or 0.0
                figures.setdefault(f"{name} steady", []).append(steady)
                print(
                    f"round {rnd} {name}: {seconds:.1f} s, steady {steady:,.0f} rec/s over "
                    f"{len(batches)} batches (load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
    medians = {name: statistics.median(values) for name, values in figures.items()}
    for name, value in medians.items():
        print(f"median {name:24s} {value:12,.0f}")
    ratios = {
        f"{name} / json {kind}": medians[f"{name} {kind}"] / medians[f"json {kind}"]
        for name in ("avro", "avro nullable", "avro array")
        for kind in ("decode stage", "steady")
        if f"{name} {kind}" in medians
    }
    for kind, value in ratios.items():
        print(f"ratio {kind:36s} {value:5.2f}")
    print(f"load average {os.getloadavg()}")
    RESULTS.parent.mkdir(exist_ok=True)
    report = {"records": args.records, "figures": figures, "medians": medians, "ratios": ratios}
    RESULTS.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
