"""`stream-scorer model train`: fit one model per key on Spark and publish the family."""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from pyspark.sql import DataFrame

from stream_scorer.cli.commands.options import (
    NOT_CURRENT,
    add_store_options,
    advance_current,
    json_object,
    parse_schema,
    store_of,
)
from stream_scorer.config import load_config
from stream_scorer.config.paths import command_line_path
from stream_scorer.config.settings import ScorerConfig
from stream_scorer.contract.family_info import FamilyInfo
from stream_scorer.errors import ConfigError
from stream_scorer.flavors.family.artefact import FALLBACK_KEY
from stream_scorer.flavors.family.build import TrainSpec, build_family
from stream_scorer.flavors.family.train import Trained, feature_types_of, read_table, train_family
from stream_scorer.runtime import logs
from stream_scorer.runtime.session import build_session
from stream_scorer.types import FieldType
from stream_scorer.versions.baseline import MAX_ROWS, reference_baseline

SHOWN_SKIPPED = 20
"""Skipped keys listed after training; `model show` lists all."""


_PARAMS_EXPECTED = """a JSON object of estimator parameters, like '{"alpha": 0.5}'"""


def register(actions: argparse._SubParsersAction) -> None:
    """Add the `train` action to the `model` sub-command."""
    p = actions.add_parser(
        "train",
        help="fit one model per key on Spark and publish them as one family version",
        description="Read Parquet or CSV with Spark, fit one estimator per key on the "
        "executors (groupBy(key).applyInPandas), then publish every fitted key as one "
        "version (a family) and point CURRENT at it unless a concurrent publish already made a "
        f"newer version CURRENT (then exit {NOT_CURRENT}). Serve it with model.route_by.",
    )
    p.add_argument("--data", required=True, help="Parquet or CSV: a local path or Hadoop URL")
    p.add_argument("--format", choices=["parquet", "csv"], help="default: from the file name")
    p.add_argument("--key", required=True, help="column whose value picks a row's model")
    p.add_argument("--target", required=True, help="column the models predict")
    p.add_argument("--features", help="model input columns, e.g. 'a,b' or 'a:double,b:string' "
                   "(default: the config's features.schema, else every other column)")  # fmt: skip
    p.add_argument(
        "--estimator",
        required=True,
        help="e.g. sklearn.linear_model.Ridge, or xgboost.XGBRegressor (stored natively)",
    )
    p.add_argument(
        "--params", default="{}", help="""estimator parameters, JSON: '{"alpha": 0.5}'"""
    )
    p.add_argument("--fallback", action="store_true",
                   help="also fit one model on all rows, for keys without their own")  # fmt: skip
    p.add_argument("--min-rows", type=int, default=1, help="keys with fewer rows get no model")
    p.add_argument("--partitions", type=int, help="Spark tasks (default: 4 per core)")
    add_store_options(p, with_config=False)
    p.add_argument(
        "--config",
        help="scorer YAML config: feature schema, allowed estimators; its model.store is the "
        "store unless --store names one",
    )
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="admit this global beyond the allowlist when the fitted models are loaded back "
        "(e.g. the class of an estimator in model.train_estimators); repeatable; adds to the "
        "config's model.trusted_types",
    )
    p.add_argument(
        "--trust-all",
        action="store_true",
        help="load the fitted models back with no allowlist (recorded in the manifest)",
    )
    p.set_defaults(func=train)


def train(args: argparse.Namespace) -> int:
    """Train, publish, print the keys fitted and skipped and the new CURRENT."""
    config = load_config(args.config) if args.config else None
    store = store_of(args)  # before Spark starts: a missing store fails at once
    log_file = None if args.verbose else _log_file(config)
    spark = build_session("stream-scorer-train", config.spark if config else None, log_file)
    data = read_table(spark, command_line_path(args.data), args.format)
    spec = TrainSpec(
        key_column=args.key,
        target=args.target,
        feature_types=_feature_types(args, config, data),
        estimator=args.estimator,
        params=json_object(args.params, "--params", _PARAMS_EXPECTED),
        min_rows=args.min_rows,
        fallback=args.fallback,
    )
    allowed = config.model.train_estimators if config else []
    began = time.monotonic()
    trained = train_family(data, spec, allowed, args.partitions, _progress_line)
    print(_trained_summary(trained, time.monotonic() - began))
    previous = store.current_version()
    trusted = [*(config.model.trusted_types if config else []), *args.trust]
    unsafe = args.trust_all or (config.model.unsafe_load if config else False)
    payload, described = build_family(spec, trained.fitted, trained.skipped, trusted, unsafe)
    rows = _reference_rows(data, [*spec.feature_types, spec.key_column])
    baseline = reference_baseline(
        rows, described, payload, "train", trusted, unsafe, route_by=spec.key_column
    )
    manifest = store.add(described, payload, advance=False, baseline=baseline.to_json().encode())
    info = FamilyInfo.of(manifest)
    assert info is not None
    print(
        f"published {manifest.version}: family of {info.summary()}, {manifest.task} "
        f"{manifest.estimator} ({len(payload):,} bytes, sha256 {manifest.sha256[:12]})"
    )
    return advance_current(store, manifest.version, previous)


def _log_file(config: ScorerConfig | None) -> Path:
    """Where Spark's and the clients' lines go, as for `run`: the config's `logging.file`,
    else `stream-scorer-train.log` in the temp directory."""
    path = logs.log_to_file(
        (config.logging.file if config else None)
        or Path(tempfile.gettempdir()) / "stream-scorer-train.log"
    )
    print(f"Spark logs: {path} (--verbose shows them here)", file=sys.stderr)
    return path


def _reference_rows(data: DataFrame, columns: list[str]) -> pd.DataFrame:
    """At most `MAX_ROWS` training rows (a seeded sample), for the family's baseline."""
    total = data.count()
    chosen = data.select(*columns)
    if total > MAX_ROWS:
        chosen = chosen.sample(fraction=MAX_ROWS / total, seed=0)
    return chosen.toPandas()


def _feature_types(
    args: argparse.Namespace, config: ScorerConfig | None, data: DataFrame
) -> dict[str, FieldType]:
    """Model inputs and their types: --features (typed double unless named), else the
    config's features.schema, else every other column of the data, typed from it."""
    declared = dict(config.features.feature_schema) if config else {}
    if args.features:
        types = parse_schema(args.features)
    elif declared:
        types = declared
    else:
        names = [c for c in data.columns if c not in (args.key, args.target)]
        types = feature_types_of(data, names)
    if declared and types != declared:
        msg = (
            f"features {types} differ from the config's features.schema {declared}; a scorer "
            "with that config would refuse the family"
        )
        raise ConfigError(msg)
    return types


def _progress_line(done: int, total: int) -> None:
    end = "\n" if done >= total else ""
    print(f"\rfitting: {done:,}/{total:,} keys", end=end, file=sys.stderr, flush=True)


def _trained_summary(trained: Trained, seconds: float) -> str:
    keys = [f for f in trained.fitted if f.key != FALLBACK_KEY]
    fallback = " + fallback" if len(keys) < len(trained.fitted) else ""
    lines = [f"fitted {len(keys):,} keys{fallback} in {seconds:.1f} s; "
             f"{len(trained.skipped):,} skipped"]  # fmt: skip
    if trained.dropped_rows:
        lines.append(f"  {trained.dropped_rows:,} rows left out: null key, feature or target")
    for key, reason in list(trained.skipped.items())[:SHOWN_SKIPPED]:
        lines.append(f"  skipped {key!r}: {reason}")
    if len(trained.skipped) > SHOWN_SKIPPED:
        lines.append(f"  ... {len(trained.skipped) - SHOWN_SKIPPED} more: see `model show`")
    return "\n".join(lines)
