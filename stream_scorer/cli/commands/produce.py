"""`stream-scorer produce`: send synthetic or file-based feature records to Kafka."""

import argparse
from collections.abc import Iterator
from pathlib import Path

from stream_scorer.cli.commands.options import kafka_option_pairs, parse_schema
from stream_scorer.devtools.extra import require_devtools
from stream_scorer.errors import ConfigError
from stream_scorer.features.factory import require_avro
from stream_scorer.types import FIELD_TYPES

DEFAULT_SCHEMA = "f0:double,f1:double,f2:double,f3:double"
"""Fields of the synthetic records when `--schema` is not given."""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `produce` sub-command."""
    p = subparsers.add_parser(
        "produce",
        help="send feature records to a Kafka topic (test script)",
        description="Send synthetic (or file-based, one JSON value per line) feature records "
        "at a given rate and count, optionally with a ratio of malformed records.",
    )
    p.add_argument("--bootstrap", default="127.0.0.1:9092", help="kafka.bootstrap.servers")
    p.add_argument("--topic", default="features", help="topic to send to (default features)")
    p.add_argument("--count", type=int, default=10_000, help="records to send")
    p.add_argument("--rate", type=float, default=0.0, help="records per second (0 = no limit)")
    p.add_argument("--bad-ratio", type=float, default=0.0, help="share of malformed records")
    p.add_argument(
        "--schema",
        default=DEFAULT_SCHEMA,
        metavar="NAME:TYPE,...",
        help="fields of each synthetic record, as comma-separated NAME:TYPE pairs matching the "
        f"scorer's features.schema (TYPE one of {', '.join(FIELD_TYPES)}; a bare NAME is "
        "double), e.g. 'visits:long,spend:double,city:string'; every record also gets an "
        f"integer `id` (default {DEFAULT_SCHEMA}; ignored with --file)",
    )
    p.add_argument(
        "--format",
        choices=("json", "avro"),
        default="json",
        help="json objects (default), or Avro in the Confluent wire format: the schema of the "
        "records is registered under <topic>-value at --schema-registry",
    )
    p.add_argument("--schema-registry", metavar="URL", help="Schema Registry (with --format avro)")
    p.add_argument("--file", type=Path, help="send the lines of this file instead (cycled)")
    p.add_argument("--partitions", type=int, default=3, help="partitions of a new topic")
    p.add_argument(
        "--seed", type=int, default=0, help="random seed of the synthetic values (default 0)"
    )
    p.add_argument("--start-id", type=int, default=0, help="first synthetic record id")
    p.add_argument("--no-progress", action="store_true", help="do not show the progress bar")
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for the broker before giving up (default 10)",
    )
    p.add_argument(
        "--kafka-option",
        action="append",
        default=[],
        metavar="kafka.KEY=VALUE",
        help="extra producer setting, e.g. kafka.security.protocol=SASL_SSL (repeatable)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Produce and print what was sent (needs the devtools extra)."""
    require_devtools("produce", "tqdm")
    from stream_scorer.devtools import producer, synthetic

    if (args.format == "avro") != bool(args.schema_registry):
        msg = "--schema-registry URL goes with --format avro, and --format avro needs it"
        raise ConfigError(msg)
    if args.format == "avro" and args.file:
        msg = "--file sends its lines as they are: leave out --format avro"
        raise ConfigError(msg)

    wait = {producer.BOOTSTRAP_TIMEOUT: str(round(args.connect_timeout * 1000))}
    extra = {**wait, **kafka_option_pairs(args.kafka_option)}
    options = producer.bootstrap_options(args.bootstrap, extra)
    partitions = producer.ensure_topic(options, args.topic, args.partitions)
    if args.file:
        records = _file_values(args.file, args.count)
    elif args.format == "avro":
        require_avro("`stream-scorer produce --format avro`")
        from stream_scorer.devtools.avro_records import avro_values

        schema = parse_schema(args.schema)
        records = avro_values(
            args.count, schema, args.topic, args.schema_registry, args.bad_ratio, args.seed,
            args.start_id,
        )  # fmt: skip
    else:
        schema = parse_schema(args.schema)
        records = synthetic.values(args.count, schema, args.bad_ratio, args.seed, args.start_id)
    report = producer.produce(
        options,
        args.topic,
        records,
        total=args.count,
        rate=args.rate,
        partitions=partitions,
        progress=not args.no_progress,
    )
    print(
        f"sent {report.sent} records ({report.malformed} malformed) to {args.topic} "
        f"in {report.seconds:.1f}s ({report.rate:,.0f} rec/s)"
    )
    return 0


def _file_values(path: Path, count: int) -> Iterator[tuple[bytes, bool]]:
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    for i in range(count):
        yield lines[i % len(lines)], True
